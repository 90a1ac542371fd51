// What `sam start` prints as things happen: one line per transition worth telling (starting,
// ready or only started, ready again, crashed, stopped with why), supervisor decisions people act
// on, alerts, reloads and plugin failures. Pure: the daemon (daemon.ts) colours and writes them.
import { describeExit } from "../actors/lifecycleTypes.ts"
import { alertSummary } from "../runtime/alertSummary.ts"
import { delayText } from "../runtime/delayText.ts"
import type { SamEvent } from "../runtime/eventBus.ts"
import { reloadSummary } from "../runtime/reloadSummary.ts"

/** The reason of a clean exit, as the lifecycle machine words it. */
const cleanExit = describeExit({ code: 0, signal: null })

/** Reasons that only repeat what the output says already (the command, or SAM stopping). */
const plainReasons: ReadonlySet<string> = new Set(["stop", "suspend", "resume", "SAM is stopping"])

/** An instance as a unit of one instance names it; `Sam.instanceName` knows the unit's scale. */
const plainName = (unit: string, instance: number) => (instance > 0 ? `${unit}#${instance}` : unit)

/**
 * The line for `event`, or undefined. `starts` holds when each instance began starting (its ready
 * line says how long it took); `checked` says whether a unit has a readiness check; `name` is what
 * an instance is called (`web#0` for a unit that may run several, as `sam ps` lists it). A line
 * that starts with "!" is a warning, "+" a success (the daemon colours them).
 */
export const progressLine = (
  event: SamEvent,
  starts: Map<string, number>,
  tty: boolean,
  checked: (unit: string) => boolean,
  name: (unit: string, instance: number) => string = plainName,
): string | undefined => {
  if (event.type === "transition") {
    const key = `${event.unit}#${event.instance}`
    // A resume counts like a start: its ready line says how long the instance took to answer again.
    if (event.to === "starting" || event.from === "suspended") starts.set(key, Date.parse(event.at))
    const t = `${((Date.parse(event.at) - (starts.get(key) ?? Date.parse(event.at))) / 1000).toFixed(1)}s`
    const pid = event.pid ? ` pid ${event.pid}` : ""
    const who = name(event.unit, event.instance)
    if (event.to === "running.ready") {
      // Its start is told once; ready again after a check failed is no start, and has no time.
      const again = !starts.has(key)
      starts.delete(key)
      if (again) return tty ? `+  ✓ ${who} ready again${pid}` : `ready again ${who}${pid}`
      // Without a readiness check nothing was checked: the instance started, as Compose says.
      // (Asked here only: the unit's status is not what every other transition needs.)
      const ready = checked(event.unit) ? "ready" : "started"
      return tty ? `+  ✓ ${who} ${ready}${pid} (${t})` : `${ready} ${who}${pid} ${t}`
    }
    if (event.to === "crashed") return `!  ✗ ${who} crashed: ${event.reason}`
    // A clean exit (a job done) is no warning; what follows it (a restart or not) is said next.
    if (event.to === "error" && event.reason === cleanExit) return `   ✓ ${who} ${cleanExit}`
    if (event.to === "error") return `!  ! ${who}: ${event.reason}`
    if (event.to === "starting") return `   … ${who} starting`
    // Why, when it is more than the command's own name (a scale down, a dependency's restart);
    // after a failure, only what the line before did not say ("not restarted: ...").
    const reason =
      event.from === "error" ? event.reason.replace(/^.*?; (?=not restarted: )/, "") : event.reason
    const why = reason && !plainReasons.has(reason) ? ` (${reason})` : ""
    // A unit SAM gave up on was down already: its stop as SAM exits is no news.
    if (event.to === "stopped" && event.from === "crashed" && event.reason === "SAM is stopping")
      return undefined
    if (event.to === "stopped") return `   ■ ${who} stopped${why}`
    if (event.to === "suspended") return `   ‖ ${who} suspended${pid}${why}`
    if (event.from === "suspended" && event.to.startsWith("running")) return `   … ${who} resuming${pid}`
    return undefined
  }
  if (event.type === "supervisor") {
    // A restart is told by its transitions; a stand-down by the stopped line that follows it; a
    // give-up by the crashed line. An escalation to a group changes nothing to see until the group
    // itself gives up (its group-shutdown line, and the escalation to root).
    if (event.action === "restart" || event.action === "stand-down" || event.action === "give-up")
      return undefined
    if (event.action === "escalation" && event.group !== "root") return undefined
    // A detail that names its unit already ("web: its files changed ...") needs no action word.
    const named = event.unit !== undefined && event.detail.startsWith(`${event.unit}:`)
    const line = named ? event.detail : `${event.action}: ${event.detail}`
    return event.action === "watch-loop" || event.action === "rollout-halted" ? `!  ${line}` : `   ${line}`
  }
  if (event.type === "config.invalid") return `!sam: ${String(event.message)}`
  // An alert is told where the operator looks, as `sam events` tells it, not only to its webhook.
  if (event.type === "alert.firing") return `!sam: ${alertSummary(event)}`
  if (event.type === "alert.resolved") return `   sam: ${alertSummary(event)}`
  // A plugin that does not load is told where the operator looks, not only in GET /api/plugins.
  if (event.type === "plugin.failed")
    return `!sam: plugin ${String(event.plugin)} failed: ${String(event.error)}`
  // A refused edit is told as a new plugin's failure is: the old version keeps serving.
  if (event.type === "plugin.reload-failed")
    return `!sam: plugin ${String(event.plugin)}: the edit was not loaded (${String(event.version)} keeps serving): ${String(event.error)}`
  if (event.type === "plugin.warning") return `!sam: plugin ${String(event.plugin)}: ${String(event.warning)}`
  if (event.type === "plugin.restarting")
    return `sam: plugin ${String(event.plugin)} restarts in ${delayText(Number(event.delayMs))}`
  if (event.type === "plugin.crashed")
    return `!sam: plugin ${String(event.plugin)} ${String(event.detail)} (save a fixed version to reload it)`
  if (event.type === "config.reloaded") return `sam: ${reloadSummary(event)}`
  // What an agent offers that no call can reach: told where the operator looks, once per start.
  if (event.type === "agent.undeclared-capability") return `!sam: ${String(event.detail)}`
  return undefined
}
