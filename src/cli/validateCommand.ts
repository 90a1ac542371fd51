// `sam validate` (described in commands.ts): load and check the configuration without starting
// anything; every problem is printed with file, path and line:column (exit 2), else "ok: N agents,
// M services", the restart limits of each unit, the containment and the sandbox this host gives
// (exit 0). Warnings (stderr) never change the exit code; a sandboxed agent that `sam start` would
// refuse (strict without bubblewrap's walls) is a problem: exit 2, and so is a plugin that would
// not load (not found, not importable, an invalid config): each plugin is imported, not set up.

import type { LoadedConfig } from "../config/load.ts"
import { describeRestartLimits } from "../config/restartLimits.ts"
import { parsePortRange, type SamConfig } from "../config/schema.ts"
import { type CommandRun, EXIT_OK, EXIT_USAGE } from "./command.ts"
import { loadFromOptions, printWarnings } from "./configOptions.ts"

export const run: CommandRun = async ({ values, io }) => {
  const loaded = await loadFromOptions(io, values, {
    secrets: values["strict-secrets"] === true ? "strict" : "lenient",
  })
  if (loaded === undefined) return EXIT_USAGE
  const agents = Object.keys(loaded.config.agents).length
  const services = Object.keys(loaded.config.services).length
  const { chooseSandbox, sandboxedAgents, sandboxRefusals } = await import("../runtime/sandboxChoice.ts")
  const sandbox = chooseSandbox({
    mode: loaded.config.security.sandbox,
    allowWeak: loaded.config.security.allow_weak_sandbox,
  })
  const plugins = await pluginCheck(loaded)
  const refusals = sandboxRefusals(loaded.config, sandbox)
  // "ok" only when `sam start` would run all of it; else what was checked, and (stderr) why not.
  const ok = refusals.length === 0 && plugins.problems.length === 0
  io.stdout(
    `${ok ? "ok" : "not ok"}: ${agents} agent${agents === 1 ? "" : "s"}, ${services} service${services === 1 ? "" : "s"}\n`,
  )
  const limits = describeRestartLimits(loaded.config)
  if (limits.length > 0) io.stdout(`restart limits:\n${limits.map((l) => `  ${l}\n`).join("")}`)
  io.stdout(`containment: ${await containmentDetail(loaded.config)}\n`)
  if (sandboxedAgents(loaded.config).length > 0) io.stdout(`sandbox: ${sandbox.detail}\n`)
  if (plugins.loadable.length > 0) io.stdout(`plugins: ${plugins.loadable.join(", ")}\n`)
  printWarnings(io, [
    ...loaded.warnings,
    ...(await engineWarnings(loaded.config)),
    ...(await portRangeWarnings(loaded.config)),
  ])
  for (const problem of plugins.problems) io.stderr(`sam: ${problem}\n`)
  if (plugins.problems.length > 0) io.stderr("`sam start` would run without these plugins.\n")
  for (const refusal of refusals) io.stderr(`sam: ${refusal}\n`)
  if (refusals.length > 0) io.stderr("`sam start` would refuse to start.\n")
  return ok ? EXIT_OK : EXIT_USAGE
}

/** The plugins `sam start` would load (the config's and the project's plugins/ folder), imported not set up. */
const pluginCheck = async (loaded: LoadedConfig) => {
  const { checkPlugins } = await import("../plugins/pluginCheck.ts")
  return checkPlugins({ entries: loaded.config.plugins, baseDir: loaded.baseDir })
}

/** The containment `sam start` would use here (detected, then released at once). */
const containmentDetail = async (config: SamConfig): Promise<string> => {
  const { detectContainment } = await import("../runtime/containment/index.ts")
  const mode = config.runtime.containment
  try {
    const containment = detectContainment(mode === "auto" ? {} : { force: mode })
    await containment.dispose()
    // The cell dir is named by each run of SAM: this check's own name would not be `sam start`'s.
    return containment.info.detail.replace(/\bsam-[0-9a-f][0-9a-f-]{7,}/g, "sam-<each run's id>")
  } catch (error) {
    return `${(error as Error).message}: \`sam start\` will refuse to start`
  }
}

/**
 * A port_range that holds a port the config fixes (api.port, a deployment.port), or that the kernel
 * also hands out as source ports (a stopped unit's port may be taken).
 */
const portRangeWarnings = async (config: SamConfig): Promise<ReadonlyArray<string>> => {
  const text = config.runtime.port_range
  const range = text === undefined ? undefined : parsePortRange(text)
  if (range === undefined) return []
  // Ports of the config's own inside the range: SAM may hand one to a unit before its owner starts.
  const inside = (port: number | undefined) => port !== undefined && port >= range.from && port <= range.to
  const holds = `runtime.port_range: ${text} holds`
  const claimed = [
    ...(inside(config.api.port)
      ? [`${holds} api.port ${config.api.port}: that port is SAM's API, one fewer for units`]
      : []),
    ...Object.entries(config.services).flatMap(([id, s]) =>
      s.enabled && s.deployment.mode === "process" && inside(s.deployment.port)
        ? [
            `${holds} services.${id}.deployment.port ${s.deployment.port}: SAM may hand that port to another unit first; move one out of the other`,
          ]
        : [],
    ),
  ]
  const { defaultPortRange, ephemeralOverlap, ephemeralRange } = await import("../runtime/freePort.ts")
  const ephemeral = ephemeralRange()
  const overlap = ephemeralOverlap(range, ephemeral)
  if (overlap === undefined || ephemeral === undefined) return claimed
  const own = defaultPortRange(ephemeral)
  return [
    ...claimed,
    `runtime.port_range: ${text}${overlap.from === range.from && overlap.to === range.to ? " is" : `: ${overlap.from}-${overlap.to} of it is`} inside the kernel's range of source ports for outgoing connections (ip_local_port_range ${ephemeral.from}-${ephemeral.to}): a connection may take a unit's port while it is down (SAM then gives the unit another port); choose ports below ${ephemeral.from}${own === undefined ? "" : `, as SAM does without a port_range (${own.from}-${own.to})`}`,
  ]
}

/**
 * A container engine CLI that is installed but cannot run containers (a docker client with no
 * daemon) would fail every start: say so now. A missing CLI is already a load warning.
 */
const engineWarnings = async (config: SamConfig): Promise<ReadonlyArray<string>> => {
  const containers = Object.entries(config.services).filter(
    ([, s]) => s.enabled && s.deployment.mode === "container",
  )
  if (containers.length === 0) return []
  const { engineProblem, findContainerEngine } = await import("../runtime/os/containerEngine.ts")
  const warnings: string[] = []
  for (const [id, service] of containers) {
    const engine = findContainerEngine(service.deployment.engine)
    const problem = engine ? await engineProblem(engine) : undefined
    if (problem) warnings.push(`services.${id}: ${problem}; starting it will fail`)
  }
  return warnings
}
