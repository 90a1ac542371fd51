// `sam crashes` and `sam crashes show <id>` with no SAM running: the reports its last run left in
// <state_dir>/state.db, said to be that; the same views and filters as GET /api/crashes. Loaded
// only on that path.
import { existsSync } from "node:fs"
import { crashSummary, crashUnitFilter, crashView } from "../api/crashViews.ts"
import { parseSince } from "../api/logSince.ts"
import type { CrashList, CrashReport } from "../api/schemas.ts"
import type { SamNotRunning } from "./apiClient.ts"
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type OptionValues, stringOption } from "./command.ts"
import type { CliIo } from "./io.ts"
import { lastRun } from "./lastRun.ts"

export type CrashQuery = { readonly show: number } | { readonly unit?: string }

export interface CrashFormats {
  readonly list: (crashes: (typeof CrashList.Type)["crashes"]) => string
  readonly one: (report: typeof CrashReport.Type) => string
}

export const offlineCrashes = async (
  io: CliIo,
  values: OptionValues,
  query: CrashQuery,
  why: SamNotRunning,
  format: CrashFormats,
): Promise<number> => {
  const { stateDir } = await lastRun(io, values)
  const { openRuntimeStore, stateDbFile } = await import("../runtime/store/runtimeStore.ts")
  if (!existsSync(stateDbFile(stateDir))) {
    io.stderr(`sam: ${why.message}\nsam: and no earlier run left crash reports in ${stateDir}\n`)
    return EXIT_FAILURE
  }
  const json = values.json === true
  const store = openRuntimeStore(stateDir)
  try {
    io.stderr(`sam: SAM is not running; these are the crash reports of its last run, from ${stateDir}\n`)
    if ("show" in query) {
      const report = store.crashReports.get(query.show)
      if (report === undefined) {
        io.stderr(`sam: no crash report ${query.show}; \`sam crashes\` lists them\n`)
        return EXIT_FAILURE
      }
      io.stdout(json ? `${JSON.stringify(crashView(report), null, 2)}\n` : format.one(crashView(report)))
      return EXIT_OK
    }
    const sinceText = stringOption(values, "since")
    const since = sinceText === undefined ? undefined : parseSince(sinceText, Date.now())
    if (sinceText !== undefined && since === undefined) {
      io.stderr(`sam: --since: expected a duration such as 10m or 2d, or an ISO time, found "${sinceText}"\n`)
      return EXIT_USAGE
    }
    const limit = stringOption(values, "limit")
    const crashes = store.crashReports
      .list({
        ...(query.unit === undefined ? {} : crashUnitFilter(query.unit)),
        ...(since === undefined ? {} : { since: new Date(since).toISOString() }),
        limit: limit === undefined ? 50 : Number(limit),
      })
      .map(crashSummary)
    io.stdout(json ? `${JSON.stringify(crashes, null, 2)}\n` : format.list(crashes))
    return EXIT_OK
  } finally {
    store.close()
  }
}
