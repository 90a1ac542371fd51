// Runs an instance's probes while it is `running` (one fiber per probe, interrupted when the
// state is left) and turns results into readiness and liveness facts with thresholds:
// `successThreshold` passes in a row make a probe pass, `failureThreshold` failures in a row make
// it fail; liveness failures inside `startPeriodMs` do not trip it (nor, before a first pass,
// inside failureThreshold × interval). Until a probe first passes it is
// polled quickly so a restarted instance is routed to again without waiting
// a whole interval (5 ms, doubling to 20 ms: a local connect refused costs microseconds), then
// less often as the wait grows (a fifth of the time since the instance began running).
import { Effect } from "effect"
import { delayText } from "../delayText.ts"
import type { ProbeSpec } from "../unitSpec.ts"
import { noReadinessCheck } from "./noReadinessCheck.ts"
import type { HealthRecord, ProbeRegistry, ProbeResult, ProbeSession, ProbeTarget } from "./probe.ts"

export interface HealthCallbacks {
  readonly onRecord: (record: HealthRecord) => void
  readonly onReady: (detail: string) => void
  readonly onUnready: (detail: string) => void
  readonly onLivenessFailed: (detail: string) => void
}

const isProbeResult = (x: unknown): x is ProbeResult =>
  typeof x === "object" && x !== null && typeof (x as { ok?: unknown }).ok === "boolean"

const misshapen = (kind: string, result: unknown): ProbeResult => ({
  ok: false,
  detail: `${kind} check returned ${result === undefined ? "undefined" : (JSON.stringify(result) ?? String(result))}, not { ok: boolean, detail: string }`,
})

const fastPollMs = 20
const firstPollMs = 5

/**
 * Why a liveness check tripped: its failures in a row against its failure_threshold. Before a first
 * pass it is checked often (and trips only after failure_threshold intervals), so a count over the
 * threshold says how long it has failed since the instance began running.
 */
const livenessFailure = (
  failures: number,
  threshold: number,
  neverPassedFor: number | undefined,
  detail: string,
): string =>
  `liveness check failed ${failures === 1 ? "once" : `${failures} times in a row`}` +
  (neverPassedFor === undefined ? "" : ` in ${delayText(neverPassedFor)}, never passing since it started`) +
  ` (failure_threshold ${threshold}): ${detail}`

const isReadiness = (p: ProbeSpec) => p.role === "readiness" || p.role === "both"
const isLiveness = (p: ProbeSpec) => p.role === "liveness" || p.role === "both"

/** A probe that runs (a heartbeat probe only where its kind is registered). */
const runs = (p: ProbeSpec, registry: ProbeRegistry): boolean =>
  registry.get(p.type) !== undefined || p.type !== "heartbeat"

/** Whether any readiness probe runs: without one, ready means only that it started. */
export const checksReadiness = (probes: ReadonlyArray<ProbeSpec>, registry: ProbeRegistry): boolean =>
  probes.some((p) => isReadiness(p) && runs(p, registry))

/** The probes that run (a heartbeat probe only where its kind is registered). */
export const activeProbes = (
  probes: ReadonlyArray<ProbeSpec>,
  registry: ProbeRegistry,
): ReadonlyArray<ProbeSpec> => probes.filter((p) => runs(p, registry))

export const monitorHealth = (
  probes: ReadonlyArray<ProbeSpec>,
  registry: ProbeRegistry,
  target: () => ProbeTarget,
  callbacks: HealthCallbacks,
): Effect.Effect<void> =>
  Effect.gen(function* () {
    const active = activeProbes(probes, registry)
    const readiness = active.filter(isReadiness)
    if (readiness.length === 0) callbacks.onReady(noReadinessCheck)
    if (active.length === 0) return yield* Effect.never
    const passing = new Set<number>()
    const startedAt = Date.now()

    const runOne = (spec: ProbeSpec, index: number, session: ProbeSession) =>
      Effect.gen(function* () {
        let oks = 0
        let fails = 0
        let everPassed = false
        // What the last unready report said: a failing check that fails otherwise now says so
        // (ECONNREFUSED while it boots, then HTTP 503), so the reason is the current one.
        let toldUnready: string | undefined
        let fastDelay = firstPollMs
        let delay = 0
        while (true) {
          const { result, durationMs } = yield* runProbe(registry, spec, target, session, delay)
          callbacks.onRecord({
            at: new Date().toISOString(),
            probe: spec.type,
            ok: result.ok,
            detail: result.detail,
            durationMs,
          })
          if (result.ok) {
            oks++
            fails = 0
            toldUnready = undefined
            if (oks >= spec.successThreshold && !passing.has(index)) {
              everPassed = true
              passing.add(index)
              if (
                isReadiness(spec) &&
                readiness.every((_, i) => passing.has(probes.indexOf(readiness[i]!)))
              ) {
                callbacks.onReady(result.detail)
              }
            }
          } else {
            fails++
            oks = 0
            if (fails >= spec.failureThreshold) {
              const wasPassing = passing.delete(index)
              if (
                isReadiness(spec) &&
                (wasPassing || fails === spec.failureThreshold || toldUnready !== result.detail)
              ) {
                toldUnready = result.detail
                callbacks.onUnready(result.detail)
              }
              // Before a first pass, fast polling must not kill a slow starter: liveness then
              // needs the time `failureThreshold` checks at the normal interval would take.
              const grace = everPassed
                ? spec.startPeriodMs
                : Math.max(spec.startPeriodMs, spec.failureThreshold * spec.intervalMs)
              const running = Date.now() - startedAt
              if (isLiveness(spec) && running >= grace)
                callbacks.onLivenessFailed(
                  livenessFailure(
                    fails,
                    spec.failureThreshold,
                    everPassed ? undefined : running,
                    result.detail,
                  ),
                )
            }
          }
          // Before a first pass: fast at first (a restarted instance is routed to again at once),
          // then slower as the wait grows (a fifth of it), so a model server that boots for a
          // minute is asked ~30 times, not 3,000. A log check only reads a flag: always fast.
          const patience = spec.type === "log" ? 0 : (Date.now() - startedAt) / 5
          delay = everPassed ? spec.intervalMs : Math.min(spec.intervalMs, Math.max(fastDelay, patience))
          fastDelay = Math.min(fastDelay * 2, fastPollMs)
        }
      })

    yield* Effect.all(
      active.map((spec) => {
        const session: ProbeSession = { kept: undefined, release: undefined }
        // What the checks kept (a connection) goes when the loop does: before the stop proceeds.
        return runOne(spec, probes.indexOf(spec), session).pipe(
          Effect.ensuring(Effect.sync(() => session.release?.())),
        )
      }),
      { concurrency: "unbounded", discard: true },
    )
  })

/**
 * One check as one callback, after waiting `delayMs`: the wait, the probe's promise, a safety
 * deadline (a probe that ignores its own timeout still cannot stall the monitor) and an abort on
 * interruption. One suspension of the fiber per check, nothing forked: at 1,000 checks a second a
 * sleep, a fork and the race of a timeout combinator cost more than the check itself.
 */
const runProbe = (
  registry: ProbeRegistry,
  spec: ProbeSpec,
  target: () => ProbeTarget,
  session: ProbeSession,
  delayMs: number,
): Effect.Effect<{ readonly result: ProbeResult; readonly durationMs: number }> => {
  const fn = registry.get(spec.type)
  return Effect.callback((resume) => {
    const controller = new AbortController()
    let settled = false
    let began = 0
    let deadline: ReturnType<typeof setTimeout> | undefined
    const finish = (result: ProbeResult) => {
      if (settled) return
      settled = true
      clearTimeout(deadline)
      // Microseconds kept: a local check takes well under a millisecond (the metrics' histogram).
      const durationMs = Math.round((performance.now() - began) * 1000) / 1000
      resume(Effect.succeed({ result, durationMs }))
    }
    const check = () => {
      began = performance.now()
      if (!fn) {
        finish({
          ok: false,
          detail: `unknown health check kind "${spec.type}" (built in: http, tcp, exec, log; is the plugin that adds it loaded?)`,
        })
        return
      }
      deadline = setTimeout(() => {
        controller.abort()
        finish({ ok: false, detail: `${spec.type} check did not settle` })
      }, spec.timeoutMs + 1_000)
      // A kind is plugin code: a throw before it returns, a plain (not promise) result or one
      // without `ok` is this check's result too, never a check that hangs or a throw in SAM.
      let pending: Promise<unknown>
      try {
        pending = Promise.resolve(fn(spec, target(), controller.signal, session))
      } catch (error) {
        pending = Promise.reject(error)
      }
      pending.then(
        (result) => finish(isProbeResult(result) ? result : misshapen(spec.type, result)),
        (error: unknown) =>
          finish({
            ok: false,
            detail: `${spec.type} check threw: ${error instanceof Error ? error.message : String(error)}`,
          }),
      )
    }
    if (delayMs > 0) deadline = setTimeout(check, delayMs)
    else check()
    return Effect.sync(() => {
      settled = true
      clearTimeout(deadline)
      controller.abort()
    })
  })
}
