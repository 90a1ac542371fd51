// An alert event in words, as `sam start` prints it and the dashboard's timeline shows it:
// `alert flaky-down firing (critical): flaky is not ready (backoff)`, `alert flaky-down resolved`.
// Reads an `alert.firing` / `alert.resolved` event as plain data; imports nothing, so the
// dashboard's browser bundle takes it too.

const word = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined

/** The line for an `alert.firing` or `alert.resolved` event (any other `alert.*`: its type). */
export const alertSummary = (event: Readonly<Record<string, unknown>>): string => {
  const rule = word(event.rule) ?? "?"
  const type = word(event.type) ?? "alert"
  if (type === "alert.resolved") return `alert ${rule} resolved`
  if (type !== "alert.firing") return `${type} ${rule}`
  const severity = word(event.severity)
  const summary = word(event.summary) ?? word(event.description)
  return `alert ${rule} firing${severity ? ` (${severity})` : ""}${summary ? `: ${summary}` : ""}`
}
