// `sam events`: the running SAM's live event stream (GET /api/events) as one line per event, or
// as JSON lines with --json, until Ctrl+C or until SAM stops.
import { Sse } from "effect/encoding"
import { ApiCallError, apiOptions, withApi } from "./apiClient.ts"
import { type Command, EXIT_FAILURE, EXIT_OK } from "./command.ts"

interface Frame {
  readonly event: string
  readonly id: string | undefined
  readonly data: string
}

const time = (at: unknown) =>
  typeof at === "string" ? at.slice(11, 19) : new Date().toISOString().slice(11, 19)

/** One readable line for an event (undefined: nothing to print). */
export const formatEvent = (frame: Frame): string | undefined => {
  let data: Record<string, unknown>
  try {
    data = JSON.parse(frame.data) as Record<string, unknown>
  } catch {
    return `${frame.event} ${frame.data}`
  }
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
      return `${time(data.at)} ${data.unit}${data.instance ? `#${data.instance}` : ""} ${data.from} → ${data.to}${data.pid ? ` (pid ${data.pid})` : ""}${data.reason ? `: ${data.reason}` : ""}`
    case "health":
      return `${time(data.at)} ${data.unit} health ${data.ok ? "ok" : "failing"} (${data.probe}): ${data.detail}`
    case "supervisor":
      return `${time(data.at)} supervisor ${data.action}${data.unit ? ` ${data.unit}` : data.group ? ` ${data.group}` : ""}: ${data.detail}`
    case "shutdown":
      return `${time(undefined)} SAM is shutting down; the stream ended`
    default: {
      const { id: _id, at, type: _type, ...rest } = data
      return `${time(at)} ${frame.event} ${JSON.stringify(rest)}`
    }
  }
}

export const eventsCommand: Command = {
  name: "events",
  summary: "Follow the running SAM's events live (Ctrl+C ends)",
  description:
    "Follow the running SAM's events live: a snapshot of every unit, then lifecycle transitions,\n" +
    "health changes, supervisor decisions and plugin events as they happen. Ctrl+C ends.",
  options: { ...apiOptions, json: { type: "boolean", description: "Print each event as a JSON line" } },
  run: ({ values, io }) =>
    withApi(io, values, async (api) => {
      const abort = new AbortController()
      const onSignal = () => abort.abort()
      process.once("SIGINT", onSignal)
      process.once("SIGTERM", onSignal)
      let sawShutdown = false
      const parser = Sse.makeParser((event) => {
        if (event._tag !== "Event") return
        if (event.event === "shutdown") sawShutdown = true
        if (values.json === true) {
          io.stdout(
            `${JSON.stringify({ event: event.event, id: event.id ?? null, data: JSON.parse(event.data) })}\n`,
          )
          return
        }
        const line = formatEvent(event)
        if (line) io.stdout(`${line}\n`)
      })
      try {
        const response = await api.stream("GET", "/api/events", {
          signal: abort.signal,
          headers: { accept: "text/event-stream" },
        })
        const decoder = new TextDecoder()
        for await (const chunk of response.body ?? []) parser.feed(decoder.decode(chunk, { stream: true }))
      } catch (error) {
        if (abort.signal.aborted) return EXIT_OK
        if (error instanceof ApiCallError) throw error
        throw new ApiCallError(
          `the event stream broke (${(error as Error).message}); run \`sam events\` again`,
        )
      } finally {
        process.off("SIGINT", onSignal)
        process.off("SIGTERM", onSignal)
      }
      if (abort.signal.aborted || sawShutdown) return EXIT_OK
      io.stderr(
        `sam: the event stream ended: SAM at ${api.url} went away; run \`sam events\` again once it is back\n`,
      )
      return EXIT_FAILURE
    }),
}
