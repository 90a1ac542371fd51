// `sam logs [<id>...]`: units' output from the running SAM (GET /api/{services,agents}/:id/logs),
// the last lines of each merged by time, prefixed with the unit like Compose when there are
// several (and with -t, before that, the time SAM read the line); with -f it then follows every one
// of them live (SSE, resumed by seq) across restarts of the units, until Ctrl+C or until SAM stops.
import { ControlApiError, type ControlClient } from "../api/controlClient.ts"
import { instanceLabel } from "../api/instanceLabel.ts"
import { sinceProblem } from "../api/logSince.ts"
import type { LogLine } from "../api/schemas.ts"
import { ApiCallError, type SamNotRunning, withApi } from "./apiClient.ts"
import {
  type CommandRun,
  EXIT_FAILURE,
  EXIT_OK,
  type OptionValues,
  stringOption,
  UsageError,
  wholeNumberOption,
} from "./command.ts"
import type { CliIo } from "./io.ts"
import { terminalSafe } from "./terminalSafe.ts"
import { fetchUnits, type UnitRow, unknownUnits } from "./unitTable.ts"

interface Target {
  readonly id: string
  readonly kind: "service" | "agent"
  /** Instances when the command began (their `id#N` labels size the prefix column). */
  readonly instances: number
  /** It may run several instances: each is named `web#N`, `web#0` included. */
  readonly several: boolean
  /** Its state and why, when the command began (said of a unit with no lines to show). */
  readonly state?: string
  readonly reason?: string
}

/** The query every request of this run shares, as the API's query parameters. */
type Query = Readonly<Record<string, string>>

const path = ["sam", "logs"]

/** The API's bounds (GET /api/services/:id/logs), checked before the request. */
const wholeNumber = (values: OptionValues, name: string): number | undefined =>
  wholeNumberOption(values, name, { min: 0, max: 100_000 }, path)

/**
 * The query every request of this run shares (checked here: a bad one is a usage error). The
 * --grep pattern is SAM's to check, as it matches it (RE2): its 400 is a usage error too (grepRefused).
 */
const queryOf = (values: OptionValues): Query => {
  const lines = wholeNumber(values, "lines")
  const instance = wholeNumber(values, "instance")
  const since = stringOption(values, "since")
  const grep = stringOption(values, "grep")
  const stream = stringOption(values, "stream")
  if (stream !== undefined && stream !== "stdout" && stream !== "stderr")
    throw new UsageError(`--stream is stdout or stderr, not '${stream}'`, path)
  const sinceIssue = since === undefined ? undefined : sinceProblem(since)
  if (sinceIssue !== undefined) throw new UsageError(`--since: ${sinceIssue}`, path)
  return {
    ...(lines === undefined ? {} : { lines: String(lines) }),
    ...(since === undefined ? {} : { since }),
    ...(grep === undefined ? {} : { grep }),
    ...(stream === undefined ? {} : { stream }),
    ...(instance === undefined ? {} : { instance: String(instance) }),
  }
}

/** The units to show: the ids given (each must exist), or every unit. */
const targetsOf = async (client: ControlClient, ids: ReadonlyArray<string>): Promise<Target[]> => {
  const units = await fetchUnits(client)
  const byId = new Map(units.map((u) => [u.id, u]))
  const wanted = ids.length === 0 ? units.map((u) => u.id) : [...new Set(ids)]
  const unknown = unknownUnits(wanted, [...byId.keys()])
  if (unknown !== undefined) throw new ApiCallError(unknown)
  return wanted.map((id) => {
    const unit = byId.get(id) as UnitRow
    return {
      id,
      kind: unit.kind,
      instances: unit.instances,
      several: unit.several,
      state: unit.state,
      reason: unit.reason,
    }
  })
}

interface Printer {
  print(unit: string, line: LogLine): void
}

/** How lines are printed: as JSON, or as text with or without each line's time in front. */
type Format = "json" | "text" | "timestamped"

const formatOf = (values: OptionValues): Format => {
  if (values.json !== true) return values.timestamps === true ? "timestamped" : "text"
  if (values.timestamps === true)
    throw new UsageError(
      "--timestamps is for text lines; with --json every line has its `time` already (drop one of the two)",
      path,
    )
  return "json"
}

const printer = (io: CliIo, targets: ReadonlyArray<Target>, format: Format): Printer => {
  // Several units, or a unit of several instances: every line says whose it is.
  let prefixed = targets.length > 1 || targets.some((t) => t.instances > 1)
  const several = new Map(targets.map((t) => [t.id, t.several]))
  const label = (unit: string, instance: number) => instanceLabel(unit, instance, several.get(unit) ?? false)
  // Compose-like: one column for every label, `web#2` included; an instance added later widens it.
  let width = Math.max(...targets.map((t) => label(t.id, Math.max(0, t.instances - 1)).length))
  return {
    print: (unit, line) => {
      if (format === "json") {
        io.stdout(`${JSON.stringify({ unit, ...line })}\n`)
        return
      }
      const who = label(unit, line.instance)
      width = Math.max(width, who.length)
      prefixed ||= line.instance > 0
      // The time first, as `docker logs -t`: one width for every line, so the unit column stays
      // aligned, and every line starts with its time whether or not it names its unit.
      const time = format === "timestamped" ? `${line.time} ` : ""
      const prefix = prefixed ? `${who.padEnd(width)} | ` : ""
      // Each line of a record of several (a stack trace) says whose it is: a unit cannot print a
      // line that reads as another's.
      const text = terminalSafe(line.line)
      io.stdout(
        `${
          prefix === "" && time === ""
            ? text
            : text
                .split("\n")
                .map((l) => `${time}${prefix}${l}`)
                .join("\n")
        }\n`,
      )
    },
  }
}

/** The typed request of the unit's log endpoint (the query's values stay strings on the wire). */
const request = (target: Target, query: Query, headers: Readonly<Record<string, string>> = {}) =>
  ({ params: { id: target.id }, query, headers }) as never

/** SAM's refusal of the --grep pattern, as the usage error it is; any other error as it was. */
const grepRefused = (error: unknown): unknown => {
  if (!(error instanceof ControlApiError) || error.status !== 400) return error
  const errors = (
    error.problem as { errors?: ReadonlyArray<{ path?: ReadonlyArray<unknown>; message?: string }> }
  )?.errors
  const issue = errors?.find((e) => e.path?.[0] === "query" && e.path?.[1] === "grep")
  return issue === undefined ? error : new UsageError(`--grep: ${issue.message ?? "refused by SAM"}`, path)
}

/** The history of every target, merged by time (a unit's own lines stay in seq order). */
const history = async (client: ControlClient, targets: ReadonlyArray<Target>, query: Query) => {
  const answers = await Promise.all(targets.map((t) => client.logs[t.kind](request(t, query)))).catch(
    (error: unknown) => {
      throw grepRefused(error)
    },
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
  client: ControlClient,
  target: Target,
  query: Query,
  after: number,
  signal: AbortSignal,
  onLine: (line: LogLine) => void,
  onGap: (detail: string) => void,
): Promise<{ readonly how: "shutdown" | "ended" | "aborted"; readonly last: number }> => {
  let last = after
  let how: "shutdown" | "ended" | "aborted" = "ended"
  const { lines: _lines, since: _since, ...rest } = query
  try {
    const events = await client.streams.logs[target.kind](
      request(target, { ...rest, follow: "true" }, { "last-event-id": String(last) }),
      { signal },
    )
    for await (const event of events) {
      if (event.event === "shutdown") how = "shutdown"
      // Lines skipped while this client fell behind (a unit writing faster than the terminal).
      if (event.event === "gap")
        onGap(String((event.data as { detail?: unknown }).detail ?? "lines were skipped"))
      if (event.event !== "line") continue
      const line = event.data as LogLine
      // A line may come twice around the switch from history to live.
      if (line.seq <= last) continue
      last = line.seq
      onLine(line)
    }
  } catch (error) {
    if (signal.aborted) return { how: "aborted", last }
    // A refusal (unknown unit, bad query, no token) is an answer; a cut stream is not.
    if ((error as { status?: number }).status !== undefined) throw error
    return { how: "ended", last }
  }
  return { how: signal.aborted ? "aborted" : how, last }
}

/** States in which a unit that wrote nothing is down, and its reason says why (a failed start). */
const downStates = new Set(["backoff", "error", "crashed", "stopped"])

/**
 * An empty answer is not left silent (stderr): a unit named on the command line, or one that is
 * down, that has no line to show says so, and a down one says its state and why (an agent whose
 * start failed wrote nothing, but its reason says what went wrong).
 */
const sayWhySilent = (
  io: CliIo,
  targets: ReadonlyArray<Target>,
  merged: ReadonlyArray<{ unit: string }>,
  query: Query,
  named: boolean,
  lastSeqs: ReadonlyMap<string, number>,
) => {
  const seen = new Set(merged.map((m) => m.unit))
  const filtered = Object.keys(query).some((key) => key !== "lines")
  for (const t of targets) {
    if (seen.has(t.id)) continue
    // It has written lines, and none was asked for (`-n 0`): nothing to explain.
    if (!filtered && (lastSeqs.get(t.id) ?? 0) > 0) continue
    const down = t.state !== undefined && downStates.has(t.state)
    if (!named && !down) continue
    const what = filtered ? `no line of ${t.id} matches` : `${t.id} has written nothing${down ? "" : " yet"}`
    const why = down ? `; it is ${t.state}${t.reason ? `: ${terminalSafe(t.reason)}` : ""} (\`sam ps\`)` : ""
    io.stderr(`sam: ${what}${why}\n`)
  }
}

/** Reconnects after a stream SAM ended without shutting down (a client that fell behind). */
const maxReconnects = 5

export const run: CommandRun = async ({ values, positionals, io }) => {
  const query = queryOf(values)
  const format = formatOf(values)
  // No SAM running: the last run's files (offlineLogs.ts, loaded only then).
  const lastRun = (why: SamNotRunning) =>
    import("./offlineLogs.ts").then(({ offlineLogs }) =>
      offlineLogs(io, values, positionals, query, why, (targets) =>
        printer(
          io,
          // The last run's config is not read: several instances are known by their lines.
          targets.map((t) => ({ ...t, kind: "service" as const, several: t.instances > 1 })),
          format,
        ),
      ),
    )
  return withApi(
    io,
    values,
    async (client) => {
      const targets = await targetsOf(client, positionals)
      if (targets.length === 0) {
        io.stderr("sam: the running SAM has no agents or services\n")
        return EXIT_OK
      }
      const out = printer(io, targets, format)
      const { merged, lastSeqs } = await history(client, targets, query)
      for (const { unit, line } of merged) out.print(unit, line)
      sayWhySilent(io, targets, merged, query, positionals.length > 0, lastSeqs)
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
              const result = await follow(
                client,
                target,
                query,
                after,
                abort.signal,
                (line) => out.print(target.id, line),
                (detail) => io.stderr(`sam: ${target.id}: ${terminalSafe(detail)}\n`),
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
        `sam: the log stream ended: SAM at ${client.url} went away; run \`sam logs -f\` again once it is back\n`,
      )
      return EXIT_FAILURE
    },
    lastRun,
  )
}
