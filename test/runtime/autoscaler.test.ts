import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { runAutoscaler } from "../../src/runtime/autoscaling/autoscaler.ts"
import type { UnitTraffic } from "../../src/runtime/autoscaling/unitTraffic.ts"
import type { Driver, ExitInfo } from "../../src/runtime/drivers/driver.ts"
import { EventBus, type SamEvent } from "../../src/runtime/eventBus.ts"
import { builtinProbes } from "../../src/runtime/health/builtinProbes.ts"
import { Supervisor } from "../../src/runtime/supervisor/supervisor.ts"
import { type AutoscaleSpec, defaultRestart, defaultStop, type UnitSpec } from "../../src/runtime/unitSpec.ts"

// The autoscaler's loop under Effect's TestClock, with a real supervisor: a driver whose
// instances "burn" `load` percent of a core each (CPU time grows with the test clock), so the
// windows, the cooldown and every scale are exact seconds of test time.
const world = () => {
  const load = { percent: 0 }
  const driver: Driver = {
    name: "process",
    start: () =>
      Effect.gen(function* () {
        const clock = yield* Clock.Clock
        const exit = yield* Deferred.make<ExitInfo>()
        let cpuSeconds = 0
        let last = clock.currentTimeMillisUnsafe()
        return {
          pid: undefined,
          port: undefined,
          url: undefined,
          exited: Deferred.await(exit),
          stop: () => Effect.andThen(Deferred.succeed(exit, { code: 0, signal: null }), Deferred.await(exit)),
          suspend: Effect.void,
          resume: Effect.void,
          usage: () => {
            const now = clock.currentTimeMillisUnsafe()
            cpuSeconds += ((now - last) / 1000) * (load.percent / 100)
            last = now
            return { rssBytes: 1, cpuSeconds }
          },
        }
      }),
  }
  const bus = new EventBus(10_000)
  const events: SamEvent[] = []
  bus.subscribe((e) => void events.push(e))
  return { driver, bus, events, load }
}

const api = (
  autoscale: AutoscaleSpec = { cpuPercent: 80, upMs: 10_000, downMs: 30_000, cooldownMs: 5_000 },
): UnitSpec => ({
  id: "api",
  kind: "service",
  runtime: "process",
  group: "services",
  dependsOn: [],
  dependencyRestart: "none",
  instances: 1,
  maxInstances: 3,
  autoscale,
  probes: [],
  restart: defaultRestart,
  stop: defaultStop,
  process: { command: "unused", args: [], env: {}, inheritEnv: false },
})

/** Let every forked fiber and actor react (no time passes under the TestClock). */
const settle = Effect.promise(() => new Promise<void>((r) => setImmediate(r))).pipe(
  Effect.repeat({ times: 5 }),
)

const setup = (spec: UnitSpec, traffic?: UnitTraffic) =>
  Effect.gen(function* () {
    const w = world()
    const supervisor = yield* Supervisor.make([spec], [], {
      drivers: new Map([["process", w.driver]]),
      probes: builtinProbes(),
      publish: (e) => w.bus.publish(e),
      usageIntervalMs: 1_000,
    })
    const loop = yield* Effect.forkChild(
      Effect.scoped(
        runAutoscaler({
          specs: () => supervisor.specs(),
          status: (id) => supervisor.status(id),
          scale: (id, count, reason) => supervisor.scale(id, count, { reason, by: "autoscaler" }),
          traffic: () => traffic,
          publish: (e) => w.bus.publish(e),
          intervalMs: 1_000,
        }),
      ),
    )
    yield* supervisor.startAll()
    /** Advance the test clock a second at a time until `seconds`; the scale events seen, with their second. */
    let t = 0
    const until = (seconds: number) =>
      Effect.gen(function* () {
        const seen: Array<{ at: number; action: string; detail: string }> = []
        const from = w.events.length
        for (; t < seconds; ) {
          yield* TestClock.adjust(1_000)
          t++
          yield* settle
          for (const e of w.events.splice(from))
            if (e.type === "supervisor" && e.action.startsWith("scale"))
              seen.push({ at: t, action: e.action, detail: e.detail })
          w.events.length = from
        }
        return seen
      })
    const count = () => supervisor.status("api").instances.filter((i) => !i.draining).length
    const stop = Effect.andThen(Fiber.interrupt(loop), supervisor.shutdown())
    return { w, supervisor, until, count, stop }
  })

describe("the autoscaler under the TestClock", () => {
  it.effect(
    "scales out after scale_up_seconds, says once that it is at max, scales in after scale_down_seconds",
    () =>
      Effect.gen(function* () {
        const { w, until, count, stop } = yield* setup(api())
        w.load.percent = 200
        // The first look (1 s) starts a cooldown of 5 s; the first CPU figure (the sample of 1-2 s)
        // opens the window, which must hold 10 s.
        assert.deepStrictEqual(yield* until(20), [
          { at: 12, action: "scale", detail: "api: cpu 200% > 80% for 10s: 1 → 3 instances" },
        ])
        assert.strictEqual(count(), 3)
        // At max_instances the load still asks for more (3 × 200 / 80 = 8): said once, not repeated.
        // The new count is seen at 13 s; the new instances' first figures (14 s) open a new window.
        assert.deepStrictEqual(yield* until(40), [
          {
            at: 24,
            action: "scale-limited",
            detail: "api: cpu 200% > 80% for 10s, but it already runs max_instances (3)",
          },
        ])
        assert.strictEqual(count(), 3)

        w.load.percent = 5
        // Well below from the figures of 40.3-41.3 s on (each instance is measured 0.3 s after its
        // spawn, then every second); the window must hold 30 s.
        assert.deepStrictEqual(yield* until(80), [
          { at: 71, action: "scale", detail: "api: cpu 5% well below 80% for 30s: 3 → 1 instances" },
          { at: 71, action: "scaled", detail: "api: 2 drained and stopped, 1 instance left" },
        ])
        assert.strictEqual(count(), 1)
        // Back in the band at 1 instance (5% is well below, but 1 is the floor): nothing more.
        assert.deepStrictEqual(yield* until(120), [])
        yield* stop
      }),
  )

  it.effect("a reconfigured target applies in place, from the next look on", () =>
    Effect.gen(function* () {
      const spec = api({ cpuPercent: 80, upMs: 2_000, downMs: 60_000, cooldownMs: 1_000 })
      const { w, supervisor, until, count, stop } = yield* setup(spec)
      w.load.percent = 75 // within 10% of 80: nothing to do
      assert.deepStrictEqual(yield* until(10), [])
      yield* supervisor.reconfigure({ ...spec, autoscale: { ...spec.autoscale!, cpuPercent: 25 } })
      const out = yield* until(14)
      assert.deepStrictEqual(
        out.map((e) => e.detail),
        ["api: cpu 75% > 25% for 2s: 1 → 3 instances"],
      )
      assert.strictEqual(count(), 3)
      yield* stop
    }),
  )

  it.effect("scales on the gateway's requests in flight per instance", () =>
    Effect.gen(function* () {
      const inFlight = new Map<number, number>([[0, 12]])
      const traffic: UnitTraffic = {
        inFlight: (_unit, instance) => inFlight.get(instance) ?? 0,
        drain: async () => {},
      }
      const { until, count, stop } = yield* setup(
        api({ inFlight: 4, upMs: 0, downMs: 5_000, cooldownMs: 2_000 }),
        traffic,
      )
      // Above from the first look (1 s); the cooldown that look started ends at 3 s.
      const out = yield* until(4)
      assert.deepStrictEqual(out, [
        { at: 3, action: "scale", detail: "api: 12 in flight per instance > 4 for 2s: 1 → 3 instances" },
      ])
      assert.strictEqual(count(), 3)
      inFlight.clear()
      const back = yield* until(15)
      assert.deepStrictEqual(
        back.map((e) => e.action),
        ["scale", "scaled"],
      )
      assert.match(
        back[0]!.detail,
        /^api: 0 in flight per instance well below 4 for [5-7]s: 3 → 1 instances$/,
      )
      assert.strictEqual(count(), 1)
      yield* stop
    }),
  )
})
