// `sam start`: runs SAM in the foreground on a loaded config, prints bring-up progress as units
// become ready and a summary, then keeps everything supervised until SIGINT/SIGTERM, when it
// stops every unit in reverse dependency order and exits 0.
import { connectUrl, removeApiState, writeApiState } from "../api/apiAddress.ts"
import { type ApiServeError, type ApiServer, isApiServeError, startApiServer } from "../api/apiServer.ts"
import { Authenticator, bindRefusal } from "../api/auth.ts"
import type { LoadedConfig } from "../config/load.ts"
import type { SamEvent } from "../runtime/eventBus.ts"
import type { StateDirLock } from "../runtime/store/stateDirLock.ts"
import { createSam } from "./createSam.ts"

export interface DaemonOptions {
  /** Print plain progress lines even on a TTY. */
  readonly plain?: boolean
  readonly out?: NodeJS.WritableStream
  /** `--set` assignments, applied again on every config reload. */
  readonly cliOverrides?: ReadonlyArray<string>
  /** The state dir, already taken (`sam start` takes it before loading the rest of SAM). */
  readonly stateDirLock?: StateDirLock
}

const color = (on: boolean) => (code: number, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text)

export const runDaemon = async (loaded: LoadedConfig, options: DaemonOptions = {}): Promise<number> => {
  const out = options.out ?? process.stdout
  const tty = !options.plain && (out as NodeJS.WriteStream).isTTY === true
  const paint = color(tty)
  const say = (line: string) => out.write(`${line}\n`)
  const { api, runtime, security } = loaded.config
  const tokens = security.api_tokens ?? {}
  const refusal = bindRefusal(api.host, new Authenticator(tokens))
  if (refusal) {
    say(`sam: ${refusal}`)
    return 2
  }
  const sam = await createSam(loaded, {
    ...(options.cliOverrides ? { cliOverrides: options.cliOverrides } : {}),
    ...(options.stateDirLock ? { stateDirLock: options.stateDirLock } : {}),
  })
  const began = Date.now()
  // When each instance last began starting: a ready time counts from there, not from SAM's start.
  const starts = new Map<string, number>()

  say(`sam: starting ${sam.unitSpecs().length} units from ${loaded.configPath}`)
  say(
    `sam: containment: ${sam.containment?.info.detail ?? "process groups only (runtime.containment is off)"}`,
  )
  const offProgress = sam.bus.subscribe((event: SamEvent) => {
    const line = progressLine(event, starts, tty)
    if (line)
      say(
        line.startsWith("!")
          ? paint(31, line.slice(1))
          : line.startsWith("+")
            ? paint(32, line.slice(1))
            : line,
      )
  })

  let stopping: Promise<void> | undefined
  const { promise: stopped, resolve: markStopped } = Promise.withResolvers<void>()
  // The API comes up while units are still starting; a stop waits for it to be up, then closes it.
  const starting = sam.start()
  const serving: Promise<ApiServer | ApiServeError> = startApiServer({
    sam,
    host: api.host,
    port: api.port,
    tokens,
    ...(sam.audit === undefined ? {} : { audit: sam.audit }),
    ...(sam.plugins === undefined ? {} : { plugins: sam.plugins }),
    crashReports: sam.store.crashReports,
    monitoring: sam.monitoring,
    stateDir: runtime.state_dir,
    onError: (message) => sam.logger?.error(message),
  }).catch((error: unknown) => {
    if (isApiServeError(error)) return error
    throw error
  })
  const stop = (why: string) => {
    if (stopping) return
    say(`sam: ${why}, stopping units in reverse dependency order`)
    // Units first, so API clients watching the event stream see them stop; then the API.
    stopping = sam
      .stop()
      .then(async () => {
        const server = await serving
        if (!isApiServeError(server)) await server.close()
        await removeApiState(runtime.state_dir).catch(() => {})
      })
      .then(() => {
        say("sam: stopped")
        markStopped()
      })
  }
  const onSignal = (signal: NodeJS.Signals) => stop(`${signal} received`)
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)

  const server = await serving
  if (isApiServeError(server)) {
    say(paint(31, `sam: ${server.message}`))
    stop("the control API could not start")
    await stopped
    offProgress()
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
    return server.reason === "unsafe-bind" ? 2 : 1
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
  say(
    `sam: control API on ${apiUrl}${Object.keys(tokens).length > 0 ? "" : " (no API tokens: open, loopback only)"}`,
  )
  const report = await starting
  // Config edits apply as a diff from now on (invalid edits are reported and change nothing).
  if (!stopping) sam.reloader?.watch()
  if (!stopping) {
    const total = report.ready.length + report.notReady.length
    say(`sam: ${report.ready.length}/${total} units ready in ${Date.now() - began} ms; API ${apiUrl}`)
    for (const unit of report.notReady) say(paint(33, `sam:   ${unit.id} is ${unit.state}: ${unit.reason}`))
    say(`sam: log ${sam.loaded.config.runtime.state_dir}/sam.log; press Ctrl+C to stop`)
  }
  await stopped
  offProgress()
  process.off("SIGINT", onSignal)
  process.off("SIGTERM", onSignal)
  return 0
}

const progressLine = (event: SamEvent, starts: Map<string, number>, tty: boolean): string | undefined => {
  if (event.type === "transition") {
    const key = `${event.unit}#${event.instance}`
    if (event.to === "starting") starts.set(key, Date.parse(event.at))
    const t = `${((Date.parse(event.at) - (starts.get(key) ?? Date.parse(event.at))) / 1000).toFixed(1)}s`
    const pid = event.pid ? ` pid ${event.pid}` : ""
    if (event.to === "running.ready")
      return tty ? `+  ✓ ${event.unit} ready${pid} (${t})` : `ready ${event.unit}${pid} ${t}`
    if (event.to === "crashed") return `!  ✗ ${event.unit} crashed: ${event.reason}`
    if (event.to === "error") return `!  ! ${event.unit}: ${event.reason}`
    if (event.to === "starting") return `   … ${event.unit} starting`
    return undefined
  }
  if (event.type === "supervisor" && event.action !== "restart") return `   ${event.action}: ${event.detail}`
  if (event.type === "config.invalid") return `!sam: ${String(event.message)}`
  if (event.type === "config.reloaded") {
    const list = (key: string) => ((event[key] as ReadonlyArray<string> | undefined) ?? []).join(", ") || "-"
    return `sam: config reloaded: added ${list("added")}; removed ${list("removed")}; restarted ${list("restarted")}; reconfigured ${list("reconfigured")}`
  }
  return undefined
}
