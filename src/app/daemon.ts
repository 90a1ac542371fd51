// `sam start`: runs SAM in the foreground on a loaded config, prints bring-up progress as units
// become ready and a summary, then keeps everything supervised until SIGINT/SIGTERM, when it
// stops every unit in reverse dependency order and exits 0. Without security.api_tokens it keeps
// the local admin token in <state_dir>/token and prints the dashboard's login link.

import { dirname, join } from "node:path"
import { connectUrl, removeApiState, writeApiState } from "../api/apiAddress.ts"
import { type ApiServeError, type ApiServer, isApiServeError, startApiServer } from "../api/apiServer.ts"
import { bindRefusal } from "../api/auth.ts"
import { dashboardLink } from "../api/dashboardLink.ts"
import { ensureLocalToken, removeLocalToken } from "../api/localToken.ts"
import { removeRunPointer, writeRunPointer } from "../api/runPointer.ts"
import { terminalSafe } from "../cli/terminalSafe.ts"
import { DEFAULT_STATE_DIR } from "../config/constants.ts"
import type { LoadedConfig } from "../config/load.ts"
import { withholdFromChildren } from "../runtime/drivers/processDriver.ts"
import type { SamEvent } from "../runtime/eventBus.ts"
import { sandboxedAgents, sandboxRefusals } from "../runtime/sandboxChoice.ts"
import type { StateDirLock } from "../runtime/store/stateDirLock.ts"
import { describeChange } from "../runtime/watch/ignoreRules.ts"
import { reloadApiTokens } from "./apiTokenReload.ts"
import { createSam } from "./createSam.ts"
import { restartedJobHint } from "./jobHint.ts"
import { progressLine } from "./progressLines.ts"
import { notReadyLine } from "./startOutcome.ts"

export interface DaemonOptions {
  /** Print plain progress lines even on a TTY. */
  readonly plain?: boolean
  readonly out?: NodeJS.WritableStream
  /** `--set` assignments, applied again on every config reload. */
  readonly cliOverrides?: ReadonlyArray<string>
  /** The state dir, already taken (`sam start` takes it before loading the rest of SAM). */
  readonly stateDirLock?: StateDirLock
  /** Reload when a config file changes (default true; `sam start --no-watch`: only `sam reload`). */
  readonly watch?: boolean
}

const color = (on: boolean) => (code: number, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text)

export const runDaemon = async (loaded: LoadedConfig, options: DaemonOptions = {}): Promise<number> => {
  const out = options.out ?? process.stdout
  const tty = !options.plain && (out as NodeJS.WriteStream).isTTY === true
  const paint = color(tty)
  // Progress lines quote units' output (a reason's last stderr line): shown as `sam logs` shows it.
  const say = (line: string) => out.write(`${terminalSafe(line)}\n`)
  const { api, runtime, security } = loaded.config
  // Not the state dir beside the config, where the CLI looks first (runPointer.ts).
  const pointed = runtime.state_dir !== join(dirname(loaded.configPath), DEFAULT_STATE_DIR)
  const tokens = security.api_tokens ?? {}
  const refusal = bindRefusal(api.host, Object.keys(tokens).length)
  if (refusal) {
    say(`sam: ${refusal}`)
    return 2
  }
  // No open API: without configured tokens the local admin token is the credential.
  const configured = Object.keys(tokens).length > 0
  let localToken: string | undefined
  if (configured) removeLocalToken(runtime.state_dir)
  else {
    const local = ensureLocalToken(runtime.state_dir)
    localToken = local.token
    // The file outlives SAM: a shell that exported it must not hand it to every unit.
    withholdFromChildren([local.token])
    if (local.renewed !== undefined && local.renewed !== "there was none")
      say(`sam: wrote a new local API token to ${local.file}: ${local.renewed}`)
  }
  const sam = await createSam(loaded, {
    ...(options.cliOverrides ? { cliOverrides: options.cliOverrides } : {}),
    ...(options.stateDirLock ? { stateDirLock: options.stateDirLock } : {}),
  })
  const began = Date.now()
  // When each instance last began starting: a ready time counts from there, not from SAM's start.
  const starts = new Map<string, number>()

  const count = sam.unitSpecs().length
  say(`sam: ${count} ${count === 1 ? "unit" : "units"} in ${loaded.configPath}`)
  say(
    `sam: containment: ${sam.containment?.info.detail ?? "process groups only (runtime.containment is off)"}`,
  )
  // Root's units are root too, and root may write any cgroup's cgroup.procs: a cell cannot hold it.
  if (process.getuid?.() === 0)
    say(
      paint(
        33,
        "sam: running as root: its units run as root too, and a process running as root can move itself out of its containment cell and outlive its stop (docs/CONTAINMENT.md); run SAM as an ordinary user where you can",
      ),
    )
  // What a change restarts, said once: watching is never silent.
  const watched = sam
    .unitSpecs()
    .flatMap((spec) =>
      spec.watch === undefined
        ? []
        : [`${spec.id} (${spec.watch.paths.map((p) => describeChange(p, loaded.baseDir)).join(", ")})`],
    )
  if (watched.length > 0) say(`sam: watch: ${watched.join(", ")} restart when their files change`)
  const refusals = sandboxRefusals(loaded.config, sam.sandbox)
  if (sandboxedAgents(loaded.config).length > 0) say(`sam: sandbox: ${sam.sandbox.detail}`)
  if (refusals.length > 0) {
    for (const refusal of refusals) say(paint(31, `sam: ${refusal}`))
    say("sam: nothing was started")
    await sam.stop()
    return 2
  }
  // Whether a unit's readiness is checked (a unit removed by a reload meanwhile: say "ready").
  const checked = (unit: string) => {
    try {
      return sam.unitStatus(unit).readinessChecked
    } catch {
      return true
    }
  }
  const hint = restartedJobHint(() => sam.loaded)
  const offProgress = sam.bus.subscribe((event: SamEvent) => {
    const told = hint(event)
    if (told) say(paint(33, told))
    const line = progressLine(event, starts, tty, checked, (unit, instance) =>
      sam.instanceName(unit, instance),
    )
    if (line)
      say(
        line.startsWith("!")
          ? paint(31, line.slice(1))
          : line.startsWith("+")
            ? paint(32, line.slice(1))
            : line,
      )
  })

  // What a previous SAM that died hard left running, stopped before this output listened.
  for (const event of sam.bus.since())
    if (event.type === "supervisor" && event.action === "orphans-reaped")
      say(paint(33, `sam: ${event.detail}`))
  // Plugins loaded with SAM, before this output listened: which run, and why any failed.
  const plugins = sam.plugins?.list() ?? []
  const runningPlugins = plugins.filter((p) => p.status === "running").map((p) => `${p.name} ${p.version}`)
  if (runningPlugins.length > 0) say(`sam: plugins: ${runningPlugins.join(", ")}`)
  for (const plugin of plugins)
    if (plugin.status === "failed")
      say(paint(31, `sam: plugin ${plugin.name} failed: ${plugin.error ?? "?"}`))

  let stopping: Promise<void> | undefined
  const { promise: stopped, resolve: markStopped } = Promise.withResolvers<void>()
  // The API listens first: a port already taken ends SAM before any unit has started (the listen
  // takes milliseconds; the app behind it loads on the first request). A stop waits for it too.
  const serving: Promise<ApiServer | ApiServeError> = startApiServer({
    sam,
    host: api.host,
    port: api.port,
    tokens,
    ...(localToken === undefined ? {} : { localToken }),
    ...(sam.audit === undefined ? {} : { audit: sam.audit }),
    ...(sam.plugins === undefined ? {} : { plugins: sam.plugins }),
    crashReports: sam.store.crashReports,
    browserSessions: sam.store.browserSessions,
    monitoring: sam.monitoring,
    stateDir: runtime.state_dir,
    onError: (message) => sam.logger?.error(message),
    onShutdownRequest: (by) => stop(`shutdown requested through the API by ${by}`),
  })
    .then((server) => {
      // The gateway's requests and breakers feed /metrics, the request-rate history and alerts.
      if (server.gateway) sam.monitoring.attachGateway(server.gateway.metrics)
      // Registered before the first request is read: a reload through the API already takes tokens.
      if (sam.reloader)
        sam.addFinalizer(
          reloadApiTokens({ reloader: sam.reloader, server, stateDir: runtime.state_dir, localToken, say }),
        )
      // Closed once every unit is down, before SAM closes its store and log: no request in
      // flight meets a closed store. (The stop below closes it too, if SAM stopped first.)
      sam.addFinalizer(() => server.close())
      return server
    })
    .catch((error: unknown) => {
      if (isApiServeError(error)) return error
      throw error
    })
  const starting = serving.then((server) => (isApiServeError(server) || stopping ? undefined : sam.start()))
  // Config edits apply as a diff (invalid edits are reported and change nothing), also while the
  // units still start (a start-up may wait a minute for a dependency): a unit still waiting starts
  // with the edit, not with the config it replaces. One saved before the API listens (and so
  // before the units start) is applied as soon as they start.
  if (options.watch !== false) sam.reloader?.watch(serving)
  let hurried = false
  const stop = (why: string, nothingStarted = false) => {
    if (stopping) {
      // Asked again (a second Ctrl+C), as Compose takes it: no more grace for what still stops.
      if (!hurried && !nothingStarted) {
        hurried = true
        say(paint(31, `sam: ${why} again: SIGKILL what is still stopping`))
        void sam.stop({ graceful: false })
      }
      return
    }
    say(
      nothingStarted
        ? `sam: ${why}; nothing was started`
        : `sam: ${why}, stopping units in reverse dependency order`,
    )
    // Units first, so API clients watching the event stream see them stop; then the API (a
    // finalizer), then the store.
    stopping = sam
      .stop()
      .then(async () => {
        const server = await serving
        if (!isApiServeError(server)) await server.close()
        // A leftover api.json names a dead pid, which the CLI ignores: say it, do not fail the stop.
        await removeApiState(runtime.state_dir).catch((error: unknown) =>
          say(`sam: could not remove ${runtime.state_dir}/api.json: ${String(error)}`),
        )
        if (pointed) await removeRunPointer(process.env, loaded.configPath, runtime.state_dir).catch(() => {})
      })
      .then(() => {
        say("sam: stopped")
        markStopped()
      })
  }
  const onSignal = (signal: NodeJS.Signals) => stop(`${signal} received`)
  // SIGHUP (its terminal closed) stops SAM as SIGTERM does, each unit with its stop signal and
  // grace, instead of ending it at once. (Node resets an inherited SIG_IGN, so `nohup` cannot keep
  // a Node process through a hangup anyway; `setsid sam start` or a service manager does.)
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"]
  for (const signal of signals) process.on(signal, onSignal)
  // Code in SAM's own process (an inline or worker agent, a plugin) that calls process.exit ends
  // SAM at once, with no stop: said where the operator looks (stderr and sam.log both write
  // synchronously, as an exit needs); the reaper stops the units.
  const onExit = (code: number) => {
    if (stopping !== undefined) return
    const message = `SAM's process exited with code ${code} while running: code in it called process.exit() (an inline or worker agent, or a plugin?); SAM's reaper stops its units`
    process.stderr.write(`sam: ${message}\n`)
    sam.logger?.fatal({ type: "sam.exited" }, message)
  }
  process.on("exit", onExit)
  const offSignals = () => {
    for (const signal of signals) process.off(signal, onSignal)
    process.off("exit", onExit)
  }

  const server = await serving
  if (isApiServeError(server)) {
    say(paint(31, `sam: ${server.message}`))
    sam.logger?.error(`the control API could not start: ${server.message}`)
    stop("the control API could not start", true)
    await stopped
    offProgress()
    offSignals()
    return server.reason === "listen" ? 1 : 2
  }
  const apiUrl = server.url
  sam.monitoring.externalUrl = apiUrl
  await writeApiState(runtime.state_dir, {
    url: connectUrl(server.host, server.port),
    pid: process.pid,
    startedAt: new Date().toISOString(),
    config: loaded.configPath,
  }).catch((error: unknown) =>
    say(`sam: could not write ${runtime.state_dir}/api.json (${String(error)}); set SAM_URL for the CLI`),
  )
  // A state dir away from the config: the CLI finds it by this record while the config is broken.
  if (pointed)
    await writeRunPointer(process.env, loaded.configPath, runtime.state_dir).catch((error: unknown) =>
      say(
        `sam: could not record the state dir in the user's cache (${String(error)}); while the config is broken, the CLI finds this SAM only with SAM_STATE_DIR`,
      ),
    )
  say(
    `sam: control API on ${apiUrl} (${configured ? "tokens from security.api_tokens" : `local admin token in ${runtime.state_dir}/token`})`,
  )
  // The login link carries the admin token: printed to a terminal (also `sam start -d`'s, which
  // says so), never into a log file, journald or CI output, where `sam dashboard` prints it.
  const toTerminal = (out as NodeJS.WriteStream).isTTY === true || process.env.SAM_LOGIN_LINK === "1"
  const link = dashboardLink(connectUrl(server.host, server.port), toTerminal ? localToken : undefined)
  say(
    `sam: dashboard: ${link}${
      configured
        ? " (sign in with a token from security.api_tokens; `sam dashboard` with SAM_TOKEN set prints a login link)"
        : toTerminal
          ? ""
          : " (`sam dashboard` prints its login link: it is not written where output is kept)"
    }`,
  )
  const report = await starting
  if (!stopping && report !== undefined) {
    const done = report.completed ?? []
    const total = report.ready.length + report.notReady.length + done.length
    // Jobs that have done their work (exited 0) are not "ready", nor waited for.
    const jobs = done.length === 0 ? "" : `, ${done.length} completed (${done.join(", ")})`
    // Ready by a check, or only started: a unit with nothing to check counts, and is named.
    const unchecked = report.ready.filter((id) => !checked(id))
    const listed =
      unchecked.length > 5
        ? `${unchecked.slice(0, 4).join(", ")} and ${unchecked.length - 4} more`
        : unchecked.join(", ")
    const started = unchecked.length === 0 ? "" : `; started with no readiness check: ${listed}`
    say(
      `sam: ${report.ready.length}/${total} units ready${jobs} in ${Date.now() - began} ms; API ${apiUrl}${started}`,
    )
    for (const unit of report.notReady) say(paint(33, notReadyLine(unit.id, unit.state, unit.reason)))
    // Another count than the config's, from an operator's `sam scale` of an earlier run.
    for (const status of sam.status().units)
      if (status.scaled !== undefined) say(`sam:   ${status.id}: ${status.scaled}`)
    say(`sam: log ${sam.loaded.config.runtime.state_dir}/sam.log; press Ctrl+C to stop`)
  }
  await stopped
  offProgress()
  offSignals()
  return 0
}
