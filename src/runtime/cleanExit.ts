// A clean exit (code 0, no signal): no crash, whatever the restart policy does with it. One rule
// for the crash reports (crashReporter.ts) and the failures the metrics count (src/metrics).

/** Whether an `instance.failed` event's facts are a clean exit. */
export const isCleanExit = (failed: object): boolean => {
  const facts = failed as {
    readonly failure?: unknown
    readonly exit_code?: unknown
    readonly signal?: unknown
  }
  return facts.failure === "exit" && facts.exit_code === 0 && (facts.signal ?? null) === null
}
