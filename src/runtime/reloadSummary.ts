// What a config reload did, in words: one line for `sam start`'s output and
// the dashboard's timeline. Reads a report (ConfigReloadReport or its `config.reloaded` event) as
// plain data; imports nothing, so the dashboard's browser bundle takes it too. (`sam reload` keeps
// its own list: the CLI client loads nothing of the runtime, test/cli/clientCommands.test.ts.)

const listed = (report: Readonly<Record<string, unknown>>, key: string, label: string): string[] => {
  const ids = report[key]
  return Array.isArray(ids) && ids.length > 0 ? [`${label} ${ids.join(", ")}`] : []
}

/** "scaled web to 3, api to 1" from a report's `scaled` ({unit, instances} each). */
export const scaledText = (report: Readonly<Record<string, unknown>>): string[] => {
  const scaled = report.scaled
  if (!Array.isArray(scaled) || scaled.length === 0) return []
  const each = scaled.map((s: { unit?: unknown; instances?: unknown }) => `${s.unit} to ${s.instances}`)
  return [`scaled ${each.join(", ")}`]
}

/** "started web (its config changed, which ends an operator's stop)". */
const startedText = (report: Readonly<Record<string, unknown>>): string[] => {
  const several = Array.isArray(report.started) && report.started.length > 1
  return listed(report, "started", "started").map(
    (text) => `${text} (${several ? "their" : "its"} config changed, which ends an operator's stop)`,
  )
}

/** "restarted web", "settings security.api_tokens", ...: what changed, in report order. */
const reloadChanges = (report: Readonly<Record<string, unknown>>): string[] => [
  ...listed(report, "added", "added"),
  ...listed(report, "removed", "removed"),
  ...listed(report, "restarted", "restarted"),
  ...listed(report, "reconfigured", "reconfigured"),
  ...startedText(report),
  ...scaledText(report),
  ...listed(report, "plugins", "plugins"),
  ...listed(report, "settings", "settings"),
]

/** "config reloaded: restarted web; needs a restart of SAM: api.port" (or "...: nothing changed"). */
export const reloadSummary = (report: Readonly<Record<string, unknown>>): string => {
  const changes = reloadChanges(report)
  const pending = listed(report, "restartNeeded", "needs a restart of SAM:")
  return `config reloaded: ${[...(changes.length === 0 ? ["nothing changed"] : changes), ...pending].join("; ")}`
}
