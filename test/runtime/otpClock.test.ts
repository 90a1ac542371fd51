import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { TestClock } from "effect/testing"
import type { Driver, ExitInfo } from "../../src/runtime/drivers/driver.ts"
import { EventBus, type SamEvent } from "../../src/runtime/eventBus.ts"
import { builtinProbes } from "../../src/runtime/health/builtinProbes.ts"
import type { GroupSpec } from "../../src/runtime/supervisor/supervisionGroup.ts"
import { Supervisor } from "../../src/runtime/supervisor/supervisor.ts"
import { defaultRestart, defaultStop, type RestartSpec, type UnitSpec } from "../../src/runtime/unitSpec.ts"

// OTP semantics under Effect's TestClock, without processes: a driver whose "processes" are
// Deferreds the test completes, so backoff, intensity windows and retries are exact.
const world = () => {
  const exits = new Map<string, Deferred.Deferred<ExitInfo>>()
  const starts = new Map<string, number>()
  const driver: Driver = {
    name: "process",
    start: (ctx) =>
      Effect.gen(function* () {
        const exit = yield* Deferred.make<ExitInfo>()
        exits.set(ctx.spec.id, exit)
        starts.set(ctx.spec.id, (starts.get(ctx.spec.id) ?? 0) + 1)
        return {
          pid: undefined,
          port: undefined,
          url: undefined,
          exited: Deferred.await(exit),
          stop: () =>
            Effect.andThen(Deferred.succeed(exit, { code: null, signal: "SIGTERM" }), Deferred.await(exit)),
          suspend: Effect.void,
          resume: Effect.void,
        }
      }),
  }
  const bus = new EventBus(10_000)
  const events: SamEvent[] = []
  bus.subscribe((e) => void events.push(e))
  const crash = (id: string) =>
    Effect.suspend(() => Deferred.succeed(exits.get(id)!, { code: 1, signal: null }))
  return { driver, bus, events, crash, starts }
}

const unit = (id: string, restart: Partial<RestartSpec> = {}, group = "services"): UnitSpec => ({
  id,
  kind: "service",
  runtime: "process",
  group,
  dependsOn: [],
  dependencyRestart: "none",
  instances: 1,
  probes: [],
  restart: { ...defaultRestart, backoffBaseMs: 1_000, backoffMaxMs: 60_000, stableMs: 600_000, ...restart },
  stop: defaultStop,
  process: { command: "unused", args: [], env: {}, inheritEnv: false },
})

const make = (w: ReturnType<typeof world>, specs: UnitSpec[], groups: GroupSpec[] = []) =>
  Supervisor.make(specs, groups, {
    drivers: new Map([["process", w.driver]]),
    probes: builtinProbes(),
    publish: (e) => w.bus.publish(e),
  })

/** Let every forked fiber and actor react (no time passes under the TestClock). */
const settle = Effect.promise(() => new Promise<void>((r) => setImmediate(r))).pipe(
  Effect.repeat({ times: 5 }),
)

describe("supervision under the TestClock", () => {
  it.effect("backoff doubles from the base with ±20% jitter and a failure waits exactly that long", () =>
    Effect.gen(function* () {
      const w = world()
      const supervisor = yield* make(w, [unit("api")])
      yield* supervisor.startAll()
      for (const [attempt, base] of [1_000, 2_000, 4_000].entries()) {
        yield* w.crash("api")
        yield* settle
        const status = supervisor.status("api")
        assert.strictEqual(status.state, "backoff")
        const restart = w.events.filter((e) => e.type === "supervisor" && e.action === "restart").at(-1) as
          | { detail?: string; delayMs?: number }
          | undefined
        const delay = restart?.delayMs ?? Number.NaN
        // The reason says it as people read it: "restart in 1.1s".
        assert.include(String(restart?.detail), `restart in ${Math.round(delay / 100) / 10}s`) // delays here are < 60 s
        assert.isTrue(delay >= base * 0.8 && delay <= base * 1.2, `attempt ${attempt}: ${delay} ms`)
        yield* TestClock.adjust(delay - 1)
        yield* settle
        assert.strictEqual(supervisor.status("api").state, "backoff")
        yield* TestClock.adjust(1)
        yield* settle
        assert.strictEqual(supervisor.status("api").state, "running")
      }
      assert.strictEqual(w.starts.get("api"), 4)
      yield* supervisor.shutdown()
    }),
  )

  it.effect("past its intensity a unit is crashed and retries every max_backoff, indefinitely", () =>
    Effect.gen(function* () {
      const w = world()
      const supervisor = yield* make(w, [
        unit("api", { maxRestarts: 2, windowMs: 60_000, backoffMaxMs: 5_000 }),
      ])
      yield* supervisor.startAll()
      for (let i = 0; i < 2; i++) {
        yield* w.crash("api")
        yield* settle
        yield* TestClock.adjust(5_000)
        yield* settle
      }
      for (let retry = 0; retry < 3; retry++) {
        yield* w.crash("api")
        yield* settle
        const status = supervisor.status("api")
        assert.strictEqual(status.state, "crashed")
        // The reason alone: when the next attempt is due is nextAttemptAt's, which does not go stale.
        assert.match(status.instances[0]!.reason, /^restart intensity exceeded \(2 in 60s\): [^;]*$/)
        assert.isDefined(status.nextAttemptAt)
        yield* TestClock.adjust(4_999)
        yield* settle
        assert.strictEqual(supervisor.status("api").state, "crashed")
        yield* TestClock.adjust(1)
        yield* settle
        assert.strictEqual(supervisor.status("api").state, "running")
      }
      yield* supervisor.shutdown()
    }),
  )

  it.effect("an implicit group has no limit: ten units failing together never take each other down", () =>
    Effect.gen(function* () {
      const w = world()
      const ids = Array.from({ length: 10 }, (_, i) => `svc${i}`)
      const supervisor = yield* make(
        w,
        ids.map((id) => unit(id, { backoffBaseMs: 100, backoffMaxMs: 100 })),
      )
      yield* supervisor.startAll()
      for (let round = 0; round < 4; round++) {
        for (const id of ids) yield* w.crash(id)
        yield* settle
        yield* TestClock.adjust(200)
        yield* settle
      }
      for (const id of ids) assert.strictEqual(supervisor.status(id).state, "running")
      yield* supervisor.shutdown()
    }),
  )

  it.effect("a declared group keeps OTP semantics: past its own intensity it shuts every member down", () =>
    Effect.gen(function* () {
      const w = world()
      const ids = ["a", "b", "c"]
      const group: GroupSpec = { name: "storage", strategy: "one_for_one", maxRestarts: 4, windowMs: 60_000 }
      const supervisor = yield* make(
        w,
        ids.map((id) => unit(id, { backoffBaseMs: 100, backoffMaxMs: 100 }, "storage")),
        [group],
      )
      yield* supervisor.startAll()
      for (let round = 0; round < 2; round++) {
        for (const id of ids) yield* w.crash(id)
        yield* settle
        yield* TestClock.adjust(200)
        yield* settle
      }
      for (const id of ids) assert.strictEqual(supervisor.status(id).state, "crashed")
      assert.isTrue(w.events.some((e) => e.type === "supervisor" && e.action === "group-shutdown"))
      assert.isTrue(supervisor.groupStates().find((g) => g.name === "storage")!.failed)
      yield* supervisor.shutdown()
    }),
  )

  it.effect("an operator's start of a crashed unit gives it fresh windows", () =>
    Effect.gen(function* () {
      const w = world()
      const supervisor = yield* make(w, [
        unit("api", { maxRestarts: 1, backoffMaxMs: 1_000, onExhausted: "give_up" }),
      ])
      yield* supervisor.startAll()
      yield* w.crash("api")
      yield* settle
      yield* TestClock.adjust(1_000)
      yield* settle
      yield* w.crash("api")
      yield* settle
      assert.strictEqual(supervisor.status("api").state, "crashed")
      assert.isUndefined(supervisor.status("api").nextAttemptAt)
      yield* supervisor.command("api", "start")
      yield* settle
      assert.strictEqual(supervisor.status("api").state, "running")
      // A fresh window: the next failure is restarted again (backoff), not given up on.
      yield* w.crash("api")
      yield* settle
      assert.strictEqual(supervisor.status("api").state, "backoff")
      yield* supervisor.shutdown()
    }),
  )
})
