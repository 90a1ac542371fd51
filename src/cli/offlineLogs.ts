// `sam logs` with no SAM running: the last run's logs, read from the files it left in
// <state_dir>/logs (as `pm2 logs` reads its files, and `docker compose logs` shows stopped
// containers), said to be that. `-f` needs a running SAM. Loaded only on that path.
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { logLineView } from "../api/logLineView.ts"
import { logQueryOf } from "../api/logQuery.ts"
import type { LogLine } from "../api/schemas.ts"
import { logFileName } from "../runtime/logs/logFiles.ts"
import { readRecords } from "../runtime/logs/logReader.ts"
import type { SamNotRunning } from "./apiClient.ts"
import { EXIT_FAILURE, EXIT_OK, type OptionValues, UsageError } from "./command.ts"
import type { CliIo } from "./io.ts"
import { lastRun } from "./lastRun.ts"
import { unknownUnits } from "./unitTable.ts"

/** Units with a log file in `dir`: the config's first, then any other file's (a removed unit). */
const unitsWithLogs = (dir: string, configured: ReadonlyArray<string>): string[] => {
  const files = new Set(readdirSync(dir).filter((name) => name.endsWith(".log")))
  const known = configured.filter((id) => files.has(logFileName(id)))
  for (const id of known) files.delete(logFileName(id))
  // Plain ids only for the rest (escaped names are left to their unit being named).
  const others = [...files].map((f) => f.slice(0, -4)).filter((id) => logFileName(id) === `${id}.log`)
  return [...known, ...others.sort()]
}

export interface OfflinePrinter {
  print(unit: string, line: LogLine): void
}

/** Print the last run's lines of `ids` (all units without ids); exit code. */
export const offlineLogs = async (
  io: CliIo,
  values: OptionValues,
  ids: ReadonlyArray<string>,
  query: Readonly<Record<string, string>>,
  why: SamNotRunning,
  printerFor: (targets: ReadonlyArray<{ id: string; instances: number }>) => OfflinePrinter,
): Promise<number> => {
  if (values.follow === true) {
    io.stderr(
      `sam: ${why.message}\nsam: -f follows a running SAM's units; without it, sam logs shows the last run's\n`,
    )
    return EXIT_FAILURE
  }
  const run = await lastRun(io, values)
  const dir = join(run.stateDir, "logs")
  const { units } = run
  if (!existsSync(dir)) {
    io.stderr(`sam: ${why.message}\nsam: and there are no logs of an earlier run in ${dir}\n`)
    return EXIT_FAILURE
  }
  const available = unitsWithLogs(dir, units)
  const wanted = ids.length === 0 ? available : [...new Set(ids)]
  const unknown = unknownUnits(wanted, [...new Set([...available, ...units])])
  if (unknown !== undefined) {
    io.stderr(`sam: ${unknown}\n`)
    return EXIT_FAILURE
  }
  // The query as the command checked it for the API (strings), read as the API reads it.
  const { lines, instance, stream, ...rest } = query
  const checked = logQueryOf(
    {
      ...rest,
      ...(lines === undefined ? {} : { lines: Number(lines) }),
      ...(instance === undefined ? {} : { instance: Number(instance) }),
      ...(stream === undefined ? {} : { stream: stream as "stdout" | "stderr" }),
    },
    Date.now(),
  )
  // The command checked all but the --grep pattern, which the running SAM would have checked.
  if (!("query" in checked))
    throw new UsageError(checked.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; "), [
      "sam",
      "logs",
    ])
  const read = await Promise.all(
    wanted.map(async (id, order) => ({
      id,
      order,
      records: await readRecords(join(dir, logFileName(id)), id, checked.query),
    })),
  )
  io.stderr(`sam: SAM is not running; these are its last run's logs, from ${dir}\n`)
  const out = printerFor(
    read.map((r) => ({ id: r.id, instances: Math.max(1, ...r.records.map((x) => x.instance + 1)) })),
  )
  const merged = read.flatMap((r) => r.records.map((record) => ({ unit: r.id, order: r.order, record })))
  merged.sort((a, b) => a.record.time - b.record.time || a.order - b.order || a.record.seq - b.record.seq)
  for (const { unit, record } of merged) out.print(unit, logLineView(record))
  return EXIT_OK
}
