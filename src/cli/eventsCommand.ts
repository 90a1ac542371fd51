// `sam events` (described in commands.ts): the running SAM's live event stream (GET /api/events)
// as one line per event, or as JSON lines with --json, until Ctrl+C or until SAM stops.
import { ControlApiError, type ServerEvent } from "../api/controlClient.ts"
import { instanceLabel, runsSeveral } from "../api/instanceLabel.ts"
import { reloadSummary } from "../runtime/reloadSummary.ts"
import { ApiCallError, withApi } from "./apiClient.ts"
import { type CommandRun, EXIT_FAILURE, EXIT_OK } from "./command.ts"
import { terminalSafe } from "./terminalSafe.ts"

const time = (at: unknown) =>
  typeof at === "string" ? at.slice(11, 19) : new Date().toISOString().slice(11, 19)

/** An instance as `sam logs` and `sam ps` name it: `web`, or `web#0`, `web#1` for a unit of several. */
const instanceName = (data: Record<string, unknown>, several: ReadonlySet<string>) =>
  instanceLabel(String(data.unit), Number(data.instance ?? 0), several.has(String(data.unit)))

/** The units of a snapshot that may run several instances (their instance 0 is `web#0`). */
const severalOf = (data: Record<string, unknown>): Set<string> =>
  new Set(
    [...((data.services as unknown[]) ?? []), ...((data.agents as unknown[]) ?? [])]
      .filter((u) => runsSeveral(u as Parameters<typeof runsSeveral>[0]))
      .map((u) => (u as { id: string }).id),
  )

/** One readable line for an event (undefined: nothing to print). */
/**
 * One event as a line; reasons and details quote units' output, shown as `sam logs` shows it.
 * `several`: the units that may run several instances (from the stream's snapshot).
 */
export const formatEvent = (
  frame: ServerEvent<unknown>,
  several: ReadonlySet<string> = new Set(),
): string | undefined => {
  const line = describeEvent(frame, several)
  return line === undefined ? undefined : terminalSafe(line)
}

const describeEvent = (frame: ServerEvent<unknown>, several: ReadonlySet<string>): string | undefined => {
  if (typeof frame.data !== "object" || frame.data === null)
    return `${frame.event} ${JSON.stringify(frame.data)}`
  const data = frame.data as Record<string, unknown>
  switch (frame.event) {
    case "snapshot": {
      const units = [
        ...((data.services as unknown[]) ?? []),
        ...((data.agents as unknown[]) ?? []),
      ] as Array<{
        id: string
        status: string
        ready: boolean
      }>
      return [
        `${time(data.timestamp)} snapshot: ${units.length} units`,
        ...units.map(
          (u) => `  ${u.id} ${u.status}${u.status === "running" ? (u.ready ? " ready" : " unready") : ""}`,
        ),
      ].join("\n")
    }
    case "transition":
      return `${time(data.at)} ${instanceName(data, several)} ${data.from} → ${data.to}${data.pid ? ` (pid ${data.pid})` : ""}${data.reason ? `: ${data.reason}` : ""}`
    case "health":
      return `${time(data.at)} ${instanceName(data, several)} health ${data.ok ? "ok" : "failing"} (${data.probe}): ${data.detail}`
    case "supervisor":
      return `${time(data.at)} supervisor ${data.action}${data.unit ? ` ${data.unit}` : data.group ? ` ${data.group}` : ""}: ${data.detail}`
    case "crash.reported":
      // "failed", not "crashed": that is the state past the restart limit (a transition line says it).
      return `${time(data.at)} ${instanceName(data, several)} failed, crash report ${data.crash_id}: ${data.reason} (\`sam crashes show ${data.crash_id}\`)`
    case "alert.firing":
    case "alert.resolved":
      return `${time(data.at)} alert ${data.rule} ${frame.event === "alert.firing" ? "firing" : "resolved"}${data.severity ? ` (${data.severity})` : ""}: ${data.summary ?? data.description ?? ""}`
    // A reload in words, as `sam start` prints it; a refused one with its problems, one a line.
    case "config.reloaded":
      return `${time(data.at)} ${reloadSummary(data)}`
    case "config.invalid":
      return `${time(data.at)} ${String(data.message ?? "config reload rejected")
        .split("\n")
        .join("\n  ")}`
    case "shutdown":
      return `${time(undefined)} SAM is shutting down; the stream ended`
    default: {
      const { id: _id, at, type: _type, ...rest } = data
      return `${time(at)} ${frame.event} ${JSON.stringify(rest)}`
    }
  }
}

export const run: CommandRun = ({ values, io }) =>
  withApi(io, values, async (client) => {
    const abort = new AbortController()
    const onSignal = () => abort.abort()
    process.once("SIGINT", onSignal)
    process.once("SIGTERM", onSignal)
    let sawShutdown = false
    try {
      const events = await client.streams.system.events({}, { signal: abort.signal })
      let several = new Set<string>()
      for await (const event of events) {
        const data =
          typeof event.data === "object" && event.data !== null ? (event.data as Record<string, unknown>) : {}
        if (event.event === "snapshot") several = severalOf(data)
        // A unit scaled up since the snapshot: its instance 0 is web#0 from now on.
        else if (typeof data.instance === "number" && data.instance > 0) several.add(String(data.unit))
        if (event.event === "shutdown") sawShutdown = true
        if (values.json === true) {
          io.stdout(`${JSON.stringify({ event: event.event, id: event.id ?? null, data: event.data })}\n`)
          continue
        }
        const line = formatEvent(event, several)
        if (line) io.stdout(`${line}\n`)
      }
    } catch (error) {
      if (abort.signal.aborted) return EXIT_OK
      if (error instanceof ApiCallError || error instanceof ControlApiError) throw error
      throw new ApiCallError(`the event stream broke (${(error as Error).message}); run \`sam events\` again`)
    } finally {
      process.off("SIGINT", onSignal)
      process.off("SIGTERM", onSignal)
    }
    if (abort.signal.aborted || sawShutdown) return EXIT_OK
    io.stderr(
      `sam: the event stream ended: SAM at ${client.url} went away; run \`sam events\` again once it is back\n`,
    )
    return EXIT_FAILURE
  })
