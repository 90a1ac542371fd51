// `sam start`: runs SAM in the foreground on a loaded config, prints bring-up progress as units
// become ready and a summary, then keeps everything supervised until SIGINT/SIGTERM, when it
// stops every unit in reverse dependency order and exits 0.
import type { LoadedConfig } from "../config/load.ts"
import { createSam } from "./createSam.ts"
import type { SamEvent } from "./eventBus.ts"

export interface DaemonOptions {
  /** Print plain progress lines even on a TTY. */
  readonly plain?: boolean
  readonly out?: NodeJS.WritableStream
}

const color = (on: boolean) => (code: number, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text)

export const runDaemon = async (loaded: LoadedConfig, options: DaemonOptions = {}): Promise<number> => {
  const out = options.out ?? process.stdout
  const tty = !options.plain && (out as NodeJS.WriteStream).isTTY === true
  const paint = color(tty)
  const say = (line: string) => out.write(`${line}\n`)
  const sam = await createSam(loaded)
  const began = Date.now()

  say(`sam: starting ${sam.supervisor.specs().length} units from ${loaded.configPath}`)
  const offProgress = sam.bus.subscribe((event: SamEvent) => {
    const line = progressLine(event, began, tty)
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
  const stop = (signal: string) => {
    if (stopping) return
    say(`sam: ${signal} received, stopping units in reverse dependency order`)
    stopping = sam.stop().then(() => {
      say("sam: stopped")
      markStopped()
    })
  }
  const onSignal = (signal: NodeJS.Signals) => stop(signal)
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)

  const report = await sam.start()
  if (!stopping) {
    const total = report.ready.length + report.notReady.length
    say(`sam: ${report.ready.length}/${total} units ready in ${Date.now() - began} ms`)
    for (const unit of report.notReady) say(paint(33, `sam:   ${unit.id} is ${unit.state}: ${unit.reason}`))
    say(`sam: log ${sam.loaded.config.runtime.state_dir}/sam.log; press Ctrl+C to stop`)
  }
  await stopped
  offProgress()
  process.off("SIGINT", onSignal)
  process.off("SIGTERM", onSignal)
  return 0
}

const progressLine = (event: SamEvent, began: number, tty: boolean): string | undefined => {
  const t = `${((Date.now() - began) / 1000).toFixed(1)}s`
  if (event.type === "transition") {
    const pid = event.pid ? ` pid ${event.pid}` : ""
    if (event.to === "running.ready")
      return tty ? `+  ✓ ${event.unit} ready${pid} (${t})` : `ready ${event.unit}${pid} ${t}`
    if (event.to === "crashed") return `!  ✗ ${event.unit} crashed: ${event.reason}`
    if (event.to === "error") return `!  ! ${event.unit}: ${event.reason}`
    if (event.to === "starting") return `   … ${event.unit} starting`
    return undefined
  }
  if (event.type === "supervisor" && event.action !== "restart") return `   ${event.action}: ${event.detail}`
  return undefined
}
