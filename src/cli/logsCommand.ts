// `sam logs [<id>...]`: units' output from the running SAM (GET /api/{services,agents}/:id/logs),
// the last lines of each merged by time, prefixed with the unit like Compose when there are
// several; with -f it then follows every one of them live (SSE, resumed by seq) across restarts of
// the units, until Ctrl+C or until SAM stops.
import { Sse } from "effect/encoding"
import { logQueryOf } from "../api/logQuery.ts"
import type { LogLine } from "../api/schemas.ts"
import { didYouMean } from "../config/suggest.ts"
import { ApiCallError, apiOptions, type SamApi, withApi } from "./apiClient.ts"
import {
  type Command,
  EXIT_FAILURE,
  EXIT_OK,
  type OptionValues,
  stringOption,
  UsageError,
} from "./command.ts"
import type { CliIo } from "./io.ts"
import { fetchUnits } from "./unitTable.ts"

interface UnitLogAnswer {
  readonly id: string
  readonly lines: ReadonlyArray<LogLine>
  readonly last_seq: number
}

interface Target {
  readonly id: string
  readonly path: string
}

const path = ["sam", "logs"]

const wholeNumber = (values: OptionValues, name: string): number | undefined => {
  const text = stringOption(values, name)
  if (text === undefined) return undefined
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`--${name} needs a whole number, got '${text}'`, path)
  return Number(text)
}

/** The query string every request of this run shares (checked here: a bad one is a usage error). */
const queryOf = (values: OptionValues): URLSearchParams => {
  const lines = wholeNumber(values, "lines")
  const instance = wholeNumber(values, "instance")
  const since = stringOption(values, "since")
  const grep = stringOption(values, "grep")
  const stream = stringOption(values, "stream")
  if (stream !== undefined && stream !== "stdout" && stream !== "stderr")
    throw new UsageError(`--stream is stdout or stderr, not '${stream}'`, path)
  const checked = logQueryOf(
    {
      ...(since === undefined ? {} : { since }),
      ...(grep === undefined ? {} : { grep }),
    },
    Date.now(),
  )
  if ("issues" in checked)
    throw new UsageError(checked.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; "), path)
  const query = new URLSearchParams()
  if (lines !== undefined) query.set("lines", String(lines))
  if (since !== undefined) query.set("since", since)
  if (grep !== undefined) query.set("grep", grep)
  if (stream !== undefined) query.set("stream", stream)
  if (instance !== undefined) query.set("instance", String(instance))
  return query
}

/** The units to show: the ids given (each must exist), or every unit. */
const targetsOf = async (api: SamApi, ids: ReadonlyArray<string>): Promise<Target[]> => {
  const units = await fetchUnits(api)
  const kindOf = new Map(units.map((u) => [u.id, u.kind]))
  const wanted = ids.length === 0 ? units.map((u) => u.id) : [...new Set(ids)]
  return wanted.map((id) => {
    const kind = kindOf.get(id)
    if (kind === undefined) {
      const hint = didYouMean(id, kindOf.keys())
      throw new ApiCallError(
        `no agent or service "${id}"${hint ? ` (did you mean "${hint}"?)` : ""}; \`sam ps\` lists them`,
      )
    }
    return { id, path: `/api/${kind === "agent" ? "agents" : "services"}/${encodeURIComponent(id)}/logs` }
  })
}

interface Printer {
  print(unit: string, line: LogLine): void
}

const printer = (io: CliIo, targets: ReadonlyArray<Target>, json: boolean): Printer => {
  const prefixed = targets.length > 1
  const label = (unit: string, instance: number) => (instance > 0 ? `${unit}#${instance}` : unit)
  const width = Math.max(...targets.map((t) => t.id.length))
  return {
    print: (unit, line) => {
      if (json) {
        io.stdout(`${JSON.stringify({ unit, ...line })}\n`)
        return
      }
      const who = label(unit, line.instance)
      const prefix = prefixed || line.instance > 0 ? `${who.padEnd(Math.max(width, who.length))} | ` : ""
      io.stdout(`${prefix}${line.line}\n`)
    },
  }
}

/** The history of every target, merged by time (a unit's own lines stay in seq order). */
const history = async (api: SamApi, targets: ReadonlyArray<Target>, query: URLSearchParams) => {
  const answers = await Promise.all(
    targets.map((t) => api.call<UnitLogAnswer>("GET", `${t.path}${query.size > 0 ? `?${query}` : ""}`)),
  )
  const merged = answers.flatMap((answer, order) =>
    answer.lines.map((line) => ({ unit: answer.id, order, line })),
  )
  merged.sort(
    (a, b) => a.line.time.localeCompare(b.line.time) || a.order - b.order || a.line.seq - b.line.seq,
  )
  return { merged, lastSeqs: new Map(answers.map((a) => [a.id, a.last_seq])) }
}

/** Follow one unit from `after` until the stream ends; resolves with how (and the last seq seen). */
const follow = async (
  api: SamApi,
  target: Target,
  query: URLSearchParams,
  after: number,
  signal: AbortSignal,
  onLine: (line: LogLine) => void,
): Promise<{ readonly how: "shutdown" | "ended" | "aborted"; readonly last: number }> => {
  let last = after
  let how: "shutdown" | "ended" | "aborted" = "ended"
  const live = new URLSearchParams(query)
  live.delete("lines")
  live.delete("since")
  live.set("follow", "true")
  const parser = Sse.makeParser((event) => {
    if (event._tag !== "Event") return
    if (event.event === "shutdown") how = "shutdown"
    if (event.event !== "line") return
    const line = JSON.parse(event.data) as LogLine
    // A line may come twice around the switch from history to live.
    if (line.seq <= last) return
    last = line.seq
    onLine(line)
  })
  try {
    const response = await api.stream("GET", `${target.path}?${live}`, {
      signal,
      headers: { accept: "text/event-stream", "last-event-id": String(last) },
    })
    const decoder = new TextDecoder()
    for await (const chunk of response.body ?? []) parser.feed(decoder.decode(chunk, { stream: true }))
  } catch (error) {
    if (signal.aborted) return { how: "aborted", last }
    if (error instanceof ApiCallError) throw error
    return { how: "ended", last }
  }
  return { how: signal.aborted ? "aborted" : how, last }
}

/** Reconnects after a stream SAM ended without shutting down (a client that fell behind). */
const maxReconnects = 5

export const logsCommand: Command = {
  name: "logs",
  summary: "Show (and with -f follow) units' output",
  args: "[<id>...]",
  description:
    "Show the last lines of output (stdout and stderr) of the given agents and services of the running\n" +
    "SAM, or of every unit, merged by time and prefixed with the unit when there are several.\n" +
    "With -f, keep printing new lines as they come, across restarts of the units, until Ctrl+C.\n" +
    "SAM keeps them in <state_dir>/logs/<id>.log, rotated by monitoring.logs.max_file_mb and max_files.",
  positionals: { min: 0, max: 10_000 },
  options: {
    ...apiOptions,
    follow: { type: "boolean", short: "f", description: "Keep printing new lines (Ctrl+C ends)" },
    lines: {
      type: "string",
      short: "n",
      placeholder: "N",
      description: "The last N lines of each unit (default 100; 0 with -f: only new lines)",
    },
    since: {
      type: "string",
      placeholder: "when",
      description: "Only lines since a duration back (10m, 1h30m, 2d) or an ISO time",
    },
    grep: {
      type: "string",
      placeholder: "regex",
      description: "Only lines matching this regular expression",
    },
    stream: { type: "string", placeholder: "stdout|stderr", description: "Only this stream" },
    instance: { type: "string", placeholder: "N", description: "Only this instance of each unit" },
    json: {
      type: "boolean",
      description: "Print each line as JSON (unit, seq, time, instance, stream, line, fields)",
    },
  },
  run: async ({ values, positionals, io }) => {
    const query = queryOf(values)
    return withApi(io, values, async (api) => {
      const targets = await targetsOf(api, positionals)
      if (targets.length === 0) {
        io.stderr("sam: the running SAM has no agents or services\n")
        return EXIT_OK
      }
      const out = printer(io, targets, values.json === true)
      const { merged, lastSeqs } = await history(api, targets, query)
      for (const { unit, line } of merged) out.print(unit, line)
      if (values.follow !== true) return EXIT_OK

      const abort = new AbortController()
      const onSignal = () => abort.abort()
      process.once("SIGINT", onSignal)
      process.once("SIGTERM", onSignal)
      try {
        const endings = await Promise.all(
          targets.map(async (target) => {
            let after = lastSeqs.get(target.id) ?? 0
            for (let attempt = 0; ; attempt++) {
              const result = await follow(api, target, query, after, abort.signal, (line) =>
                out.print(target.id, line),
              ).catch((error: unknown) => {
                // One unit's stream failing ends them all (the error is reported once).
                abort.abort()
                throw error
              })
              if (result.how !== "ended" || attempt >= maxReconnects) return result.how
              after = result.last
            }
          }),
        )
        if (abort.signal.aborted || endings.includes("shutdown")) return EXIT_OK
      } finally {
        process.off("SIGINT", onSignal)
        process.off("SIGTERM", onSignal)
      }
      io.stderr(
        `sam: the log stream ended: SAM at ${api.url} went away; run \`sam logs -f\` again once it is back\n`,
      )
      return EXIT_FAILURE
    })
  },
}
