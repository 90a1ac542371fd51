// `sam reload` (described in commands.ts): make the running SAM reload its configuration files
// (POST /api/config/reload) and report what changed, or every problem of an invalid config
// (nothing changes then).
import { ControlApiError } from "../api/controlClient.ts"
import { withApi } from "./apiClient.ts"
import { type CommandRun, EXIT_OK, EXIT_USAGE } from "./command.ts"

interface ReloadReport {
  readonly ok: boolean
  readonly message?: string
  readonly issues?: ReadonlyArray<{
    readonly path?: string
    readonly message?: string
    readonly file?: string
  }>
  readonly [key: string]: unknown
}

const listed = (report: ReloadReport, key: string): string | undefined => {
  const value = report[key]
  return Array.isArray(value) && value.length > 0 ? `${key} ${value.join(", ")}` : undefined
}

/** "scaled web to 3": the units whose count the config changed ({unit, instances} each). */
const scaled = (report: ReloadReport): string | undefined => {
  const value = report.scaled
  if (!Array.isArray(value) || value.length === 0) return undefined
  return `scaled ${value.map((s: { unit?: unknown; instances?: unknown }) => `${s.unit} to ${s.instances}`).join(", ")}`
}

export const run: CommandRun = ({ values, io }) =>
  withApi(io, values, async (client) => {
    // The plugin host answers more than the schema's {ok}: what changed, or the config's issues.
    let report: ReloadReport
    try {
      report = await client.plugins.reload()
    } catch (error) {
      // An invalid config (422): its issues, and exit 2 as `sam validate` and `sam start` give.
      if (!(error instanceof ControlApiError) || error.status !== 422) throw error
      io.stderr(`sam: ${error.message}\n`)
      io.stderr("Fix the config and run `sam reload` again; SAM keeps running the old one.\n")
      return EXIT_USAGE
    }
    if (report?.ok !== true) {
      io.stderr(`sam: the config was not reloaded${report?.message ? `: ${report.message}` : ""}\n`)
      for (const issue of report?.issues ?? [])
        io.stderr(`  ${issue.file ?? ""}${issue.path ? ` ${issue.path}` : ""}: ${issue.message ?? ""}\n`)
      io.stderr("Fix the config and run `sam reload` again; SAM keeps running the old one.\n")
      return EXIT_USAGE
    }
    const changes = [
      "added",
      "removed",
      "restarted",
      "reconfigured",
      "started",
      "scaled",
      "plugins",
      "settings",
    ]
      .map((k) =>
        k === "scaled"
          ? scaled(report)
          : k === "started"
            ? listed(report, k)?.concat(
                ` (${Array.isArray(report.started) && report.started.length > 1 ? "their" : "its"} config changed, which ends an operator's stop)`,
              )
            : listed(report, k),
      )
      .filter(Boolean)
    io.stdout(
      `config reloaded${changes.length > 0 ? `: ${changes.join("; ")}` : report.changed === false ? ": nothing changed" : ""}\n`,
    )
    // Changed in the file, not in the running SAM: say so rather than let it look applied.
    const restart = report.restartNeeded
    if (Array.isArray(restart) && restart.length > 0)
      io.stderr(
        `sam: ${restart.join(", ")} ${restart.length === 1 ? "differs" : "differ"} from what SAM started with, and SAM reads ${restart.length === 1 ? "it" : "them"} only when it starts: ` +
          "restart SAM (`sam shutdown`, then `sam start`) to apply\n",
      )
    return EXIT_OK
  })
