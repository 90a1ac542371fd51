// The runtime store on real files: it creates and migrates its schema, refuses a newer SAM's
// database, round-trips every table, writes atomically, tells watchers (plain callbacks, PubSub,
// SubscriptionRef) about committed changes only, keeps its data across close and SIGKILL.
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { Effect, Fiber, Layer, PubSub, Stream, SubscriptionRef } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { type Migration, migrate, schemaVersion } from "../../../src/runtime/store/migrations.ts"
import { openRuntimeStore, stateDbFile } from "../../../src/runtime/store/runtimeStore.ts"
import { acquireStateDir } from "../../../src/runtime/store/stateDirLock.ts"
import { StoreVersionTooNew } from "../../../src/runtime/store/storeErrors.ts"
import { RuntimeStoreService, runtimeStoreLayer } from "../../../src/runtime/store/storeLayer.ts"
import { runtimeStoreMigrations } from "../../../src/runtime/store/storeSchema.ts"
import type { DesiredState, StoreChange } from "../../../src/runtime/store/storeTypes.ts"
import { added, openResources } from "../../support/handles.ts"
import { fixture } from "../../support/runtime.ts"

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const stateDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "sam-store-"))
  dirs.push(dir)
  return dir
}

const desired = (unit: string, state: DesiredState["state"], configHash = "h1"): DesiredState => ({
  unit,
  state,
  by: "operator:ada",
  at: "2026-12-01T10:00:00.000Z",
  configHash,
})

/** File descriptors of this process open on `dir`'s files. */
const descriptorsInto = (dir: string): Array<string> =>
  readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      return target.startsWith(dir) ? [target] : []
    } catch {
      return []
    }
  })

describe("the runtime store's schema", () => {
  it("state.db and its -wal and -shm are their owner's only (0600)", () => {
    const dir = stateDir()
    const store = openRuntimeStore(dir)
    store.desiredState.set(desired("web", "stopped"))
    for (const name of ["state.db", "state.db-wal", "state.db-shm"])
      expect((statSync(join(dir, name)).mode & 0o777).toString(8), name).toBe("600")
    store.close()
  })

  it("an empty state dir gets state.db in WAL mode at the current schema version", () => {
    const dir = stateDir()
    const store = openRuntimeStore(dir)
    expect(store.file).toBe(join(dir, "state.db"))
    expect(store.schemaVersion).toBe(runtimeStoreMigrations.length)
    const raw = new DatabaseSync(store.file)
    expect(raw.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" })
    expect(schemaVersion(raw)).toBe(runtimeStoreMigrations.length)
    const tables = raw
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all()
      .map((r) => r.name)
    expect(tables).toEqual([
      "alert_history",
      "audit_checkpoints",
      "browser_sessions",
      "crash_reports",
      "desired_state",
      "instances",
      "ports",
      "restart_windows",
      "sam_runs",
      "scaled_instances",
    ])
    raw.close()
    store.close()
  })

  it("migrations run from the version a database is at, each step atomic with its version bump", () => {
    const file = join(stateDir(), "state.db")
    const m1: Migration = (db) => db.exec("CREATE TABLE a (x INTEGER) STRICT")
    const m2: Migration = (db) => db.exec("ALTER TABLE a ADD COLUMN y TEXT")
    const broken: Migration = (db) => {
      db.exec("CREATE TABLE c (z INTEGER)")
      throw new Error("step 3 fails half-way")
    }
    const db = new DatabaseSync(file)
    expect(migrate(db, file, [m1])).toEqual({ from: 0, to: 1 })
    db.exec("INSERT INTO a (x) VALUES (7)")
    // m1 would fail if it ran again (the table exists): only m2 runs.
    expect(migrate(db, file, [m1, m2])).toEqual({ from: 1, to: 2 })
    expect(db.prepare("SELECT x, y FROM a").all()).toEqual([{ x: 7, y: null }])
    expect(() => migrate(db, file, [m1, m2, broken])).toThrow("step 3 fails half-way")
    expect(schemaVersion(db)).toBe(2)
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'c'").get()).toBeUndefined()
    expect(migrate(db, file, [m1, m2])).toEqual({ from: 2, to: 2 })
    db.close()
  })

  it("a database from a newer SAM is refused, naming both versions, and left byte for byte", () => {
    const dir = stateDir()
    const file = stateDbFile(dir)
    const newer = new DatabaseSync(file)
    newer.exec("CREATE TABLE future (x INTEGER); PRAGMA user_version = 99")
    newer.close()
    const before = readFileSync(file)
    let error: unknown
    try {
      openRuntimeStore(dir)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(StoreVersionTooNew)
    expect((error as StoreVersionTooNew).message).toBe(
      `${file} has schema version 99, but this SAM knows versions up to ${runtimeStoreMigrations.length}: ` +
        `it was written by a newer SAM. Run that SAM (or a newer one), or move ${file} away to start with empty state`,
    )
    expect(readFileSync(file).equals(before)).toBe(true)
    expect(readdirSync(dir)).toEqual(["state.db"])
  })
})

describe("the runtime store's tables", () => {
  it("desired state: set, get, list, clear; clearStale drops records whose unit config changed", () => {
    const store = openRuntimeStore(stateDir())
    store.desiredState.set(desired("web", "stopped"))
    store.desiredState.set(desired("db", "running", "h2"))
    store.desiredState.set(desired("gone", "stopped"))
    store.desiredState.set({ ...desired("web", "running"), by: "api" })
    expect(store.desiredState.get("web")).toEqual({ ...desired("web", "running"), by: "api" })
    expect(store.desiredState.list().map((d) => d.unit)).toEqual(["db", "gone", "web"])
    const cleared = store.desiredState.clearStale(
      new Map([
        ["web", "h1"],
        ["db", "h3"],
      ]),
    )
    expect(cleared.map((d) => d.unit)).toEqual(["db", "gone"])
    expect(store.desiredState.list().map((d) => d.unit)).toEqual(["web"])
    expect(store.desiredState.clear("web")).toBe(true)
    expect(store.desiredState.clear("web")).toBe(false)
    expect(store.desiredState.get("web")).toBeUndefined()
    store.close()
  })

  it("instances, ports and restart windows round-trip; clearing a unit removes all its rows", () => {
    const store = openRuntimeStore(stateDir())
    const web0 = {
      unit: "web",
      instance: 0,
      pid: 4242,
      startTime: "123456",
      cell: "/sys/fs/cgroup/sam/web-0",
      port: 8080,
      startedAt: "2026-12-01T10:00:00.000Z",
    }
    store.instances.upsert(web0)
    store.instances.upsert({ ...web0, instance: 1, pid: 4243, port: null })
    store.instances.upsert({ ...web0, pid: 5000, startTime: "999" })
    expect(store.instances.get("web", 0)).toEqual({ ...web0, pid: 5000, startTime: "999" })
    expect(store.instances.list().map((i) => [i.instance, i.pid, i.port])).toEqual([
      [0, 5000, 8080],
      [1, 4243, null],
    ])
    expect(store.instances.remove("web", 1)).toBe(true)
    expect(store.instances.removeUnit("web")).toBe(1)
    expect(store.instances.list()).toEqual([])

    store.ports.set("web", 0, 8080)
    store.ports.set("web", 1, 8081)
    store.ports.set("db", 0, 5432)
    store.ports.set("web", 1, 8082)
    expect(store.ports.get("web", 1)).toBe(8082)
    expect(store.ports.get("web", 2)).toBeUndefined()
    expect(store.ports.clear("web")).toBe(2)
    expect(store.ports.list()).toEqual([{ unit: "db", instance: 0, port: 5432 }])

    const window = { key: "web#0", stamps: [1000, 2000.5], consecutiveFailures: 2, restarts: 7 }
    store.restartWindows.set(window)
    expect(store.restartWindows.get("web#0")).toEqual(window)
    store.restartWindows.set({ ...window, stamps: [], consecutiveFailures: 0 })
    expect(store.restartWindows.list()).toEqual([{ ...window, stamps: [], consecutiveFailures: 0 }])
    expect(store.restartWindows.clear("web#0")).toBe(true)
    expect(store.restartWindows.get("web#0")).toBeUndefined()
    store.close()
  })

  it("SAM runs: a run that never stopped cleanly is what the next SAM must sweep", () => {
    const store = openRuntimeStore(stateDir())
    const run = (samId: string, startedAt: string) => ({
      samId,
      pid: 100,
      startTime: "1",
      startedAt,
      cgroupDirs: [] as Array<string>,
    })
    store.samRuns.begin(run("clean", "2026-12-01T08:00:00.000Z"))
    store.samRuns.markStopped("clean", "2026-12-01T08:30:00.000Z")
    store.samRuns.begin(run("died", "2026-12-01T09:00:00.000Z"))
    store.samRuns.setCgroupDirs("died", ["/sys/fs/cgroup/sam/died/web"])
    store.samRuns.begin(run("current", "2026-12-01T10:00:00.000Z"))
    expect(store.samRuns.get("clean")?.stoppedAt).toBe("2026-12-01T08:30:00.000Z")
    expect(store.samRuns.unclean("current")).toEqual([
      {
        ...run("died", "2026-12-01T09:00:00.000Z"),
        stoppedAt: null,
        cgroupDirs: ["/sys/fs/cgroup/sam/died/web"],
      },
    ])
    expect(store.samRuns.list().map((r) => r.samId)).toEqual(["current", "died", "clean"])
    expect(store.samRuns.pruneClean(0)).toBe(1)
    expect(store.samRuns.list().map((r) => r.samId)).toEqual(["current", "died"])
    store.close()
  })

  it("crash reports: insert and list newest first; retention by age and by count", () => {
    const store = openRuntimeStore(stateDir())
    const report = (unit: string, minute: number) =>
      store.crashReports.insert({
        unit,
        instance: 0,
        time: `2026-12-01T10:${String(minute).padStart(2, "0")}:00.000Z`,
        failure: minute % 2 === 0 ? "exit" : "memory",
        exitCode: minute % 2 === 0 ? 1 : null,
        signal: minute % 2 === 0 ? null : "SIGKILL",
        reason: `crash ${minute}`,
        uptimeMs: minute * 1000,
        restarts: minute,
        lastLines: [
          { time: "2026-12-01T10:00:00.000Z", stream: "stdout", line: `last line ${minute}` },
          { time: "2026-12-01T10:00:00.000Z", stream: "stderr", line: "bye" },
        ],
        resources: { rssBytes: 1024 * minute, cpu: { user: 0.5 } },
      })
    const first = report("web", 1)
    for (const minute of [2, 3, 4, 5]) report("web", minute)
    for (const minute of [6, 7]) report("db", minute)
    expect(first).toMatchObject({ id: 1, signal: "SIGKILL", exitCode: null })
    expect(store.crashReports.list({ unit: "web", limit: 2 })).toEqual([
      {
        id: 5,
        unit: "web",
        instance: 0,
        time: "2026-12-01T10:05:00.000Z",
        failure: "memory",
        exitCode: null,
        signal: "SIGKILL",
        reason: "crash 5",
        uptimeMs: 5000,
        restarts: 5,
        lastLines: [
          { time: "2026-12-01T10:00:00.000Z", stream: "stdout", line: "last line 5" },
          { time: "2026-12-01T10:00:00.000Z", stream: "stderr", line: "bye" },
        ],
        resources: { rssBytes: 5120, cpu: { user: 0.5 } },
      },
      expect.objectContaining({ id: 4, exitCode: 1, signal: null }),
    ])
    expect(store.crashReports.list({ since: "2026-12-01T10:06:00.000Z" }).map((r) => r.id)).toEqual([7, 6])
    expect(
      store.crashReports.list({ unit: "web", since: "2026-12-01T10:04:00.000Z" }).map((r) => r.id),
    ).toEqual([5, 4])
    expect(store.crashReports.get(3)).toMatchObject({ id: 3, unit: "web", reason: "crash 3" })
    expect(store.crashReports.get(99)).toBeUndefined()
    expect(store.crashReports.deleteOlderThan("2026-12-01T10:02:00.000Z")).toBe(1)
    expect(store.crashReports.keepNewest(2, "web")).toBe(2)
    expect(store.crashReports.list().map((r) => r.reason)).toEqual([
      "crash 7",
      "crash 6",
      "crash 5",
      "crash 4",
    ])
    expect(store.crashReports.keepNewest(1)).toBe(3)
    expect(store.crashReports.list().map((r) => r.reason)).toEqual(["crash 7"])
    store.close()
  })

  it("alert history and audit checkpoints round-trip", () => {
    const store = openRuntimeStore(stateDir())
    const alert = store.alertHistory.insert({
      rule: "high-restarts",
      unit: "web",
      state: "pending",
      startedAt: "2026-12-01T10:00:00.000Z",
      endedAt: null,
      labels: { severity: "page" },
      annotations: { summary: "web restarts too often" },
    })
    store.alertHistory.insert({ ...alert, rule: "disk", unit: null, startedAt: "2026-12-01T11:00:00.000Z" })
    expect(store.alertHistory.update(alert.id, { state: "firing" })).toEqual({ ...alert, state: "firing" })
    expect(
      store.alertHistory.update(alert.id, { state: "resolved", endedAt: "2026-12-01T10:05:00.000Z" }),
    ).toEqual({
      ...alert,
      state: "resolved",
      endedAt: "2026-12-01T10:05:00.000Z",
    })
    expect(store.alertHistory.update(999, { state: "firing" })).toBeUndefined()
    expect(store.alertHistory.list().map((a) => a.rule)).toEqual(["disk", "high-restarts"])
    expect(store.alertHistory.list({ unit: "web" }).map((a) => a.state)).toEqual(["resolved"])
    expect(store.alertHistory.list({ rule: "disk" })).toHaveLength(1)

    const checkpoint = {
      seq: 10,
      count: 11,
      headHash: "ab12",
      file: "/x/audit.log",
      at: "2026-12-01T10:00:00.000Z",
    }
    store.auditCheckpoints.insert(checkpoint)
    store.auditCheckpoints.insert({ ...checkpoint, seq: 20, count: 21, headHash: "cd34" })
    expect(store.auditCheckpoints.list().map((c) => c.seq)).toEqual([10, 20])
    expect(store.auditCheckpoints.latest()).toEqual({ ...checkpoint, seq: 20, count: 21, headHash: "cd34" })
    store.close()
  })
})

describe("atomic writes and watchers", () => {
  it("a multi-row write that fails half-way leaves nothing, and watchers hear nothing of it", () => {
    const store = openRuntimeStore(stateDir())
    const heard: Array<StoreChange> = []
    store.subscribe((change) => heard.push(change))
    expect(() =>
      store.transaction(() => {
        store.desiredState.set(desired("web", "stopped"))
        store.ports.set("web", 0, 8080)
        store.instances.upsert({
          unit: "web",
          instance: 0,
          pid: 1,
          startTime: "1",
          cell: "",
          port: 8080,
          startedAt: "2026-12-01T10:00:00.000Z",
        })
        store.ports.set("web", 1, 70_000) // the schema allows 1-65535
      }),
    ).toThrow(/CHECK constraint failed/)
    expect(store.desiredState.list()).toEqual([])
    expect(store.ports.list()).toEqual([])
    expect(store.instances.list()).toEqual([])
    expect(heard).toEqual([])

    // A nested transaction that fails rolls back alone; the outer one commits the rest.
    store.transaction(() => {
      store.desiredState.set(desired("db", "running"))
      expect(() =>
        store.transaction(() => {
          store.ports.set("db", 0, 5432)
          throw new Error("inner fails")
        }),
      ).toThrow("inner fails")
    })
    expect(store.desiredState.list().map((d) => d.unit)).toEqual(["db"])
    expect(store.ports.list()).toEqual([])
    expect(heard).toEqual([{ table: "desired_state", unit: "db", value: desired("db", "running") }])
    store.close()
  })

  it("committed changes reach plain listeners, the PubSub and the unit's SubscriptionRef, in order", async () => {
    const store = openRuntimeStore(stateDir())
    const heard: Array<string> = []
    const off = store.subscribe((change) =>
      heard.push(`${change.table}:${"unit" in change ? change.unit : ""}`),
    )
    const seen = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const subscription = yield* PubSub.subscribe(store.changes)
          const ref = store.watchDesiredState("web")
          // The ref's stream starts with the current value (none), then every committed change.
          const states = yield* Stream.runCollect(
            SubscriptionRef.changes(ref).pipe(
              Stream.map((d) => d?.state ?? "none"),
              Stream.take(3),
            ),
          ).pipe(Effect.forkChild({ startImmediately: true }))
          yield* Effect.yieldNow
          store.desiredState.set(desired("web", "stopped"))
          store.ports.set("web", 0, 8080)
          store.desiredState.set(desired("db", "stopped"))
          store.desiredState.clear("web")
          const fromPubSub = yield* PubSub.takeAll(subscription)
          return { states: yield* Fiber.join(states), fromPubSub }
        }),
      ),
    )
    expect(seen.states).toEqual(["none", "stopped", "none"])
    expect(seen.fromPubSub.map((c) => c.table)).toEqual([
      "desired_state",
      "ports",
      "desired_state",
      "desired_state",
    ])
    expect(heard).toEqual(["desired_state:web", "ports:web", "desired_state:db", "desired_state:web"])
    off()
    store.desiredState.set(desired("web", "running"))
    expect(heard).toHaveLength(4)
    store.close()
  })

  it("a throwing listener is reported, and neither the write nor the other listeners fail", () => {
    const reported: Array<unknown> = []
    const store = openRuntimeStore(stateDir(), { onListenerError: (error) => reported.push(error) })
    const heard: Array<StoreChange> = []
    store.subscribe(() => {
      throw new Error("listener bug")
    })
    store.subscribe((change) => heard.push(change))
    store.desiredState.set(desired("web", "stopped"))
    expect(store.desiredState.get("web")?.state).toBe("stopped")
    expect(heard).toHaveLength(1)
    expect(String(reported[0])).toContain("listener bug")
    store.close()
  })
})

describe("durability", () => {
  it("data survives close and reopen, and closing leaves no handle or descriptor behind", () => {
    const dir = stateDir()
    const before = openResources()
    const store = openRuntimeStore(dir)
    store.desiredState.set(desired("web", "stopped"))
    store.ports.set("web", 0, 8080)
    store.subscribe(() => {})
    store.watchDesiredState("web")
    expect(descriptorsInto(dir).length).toBeGreaterThan(0)
    store.close()
    store.close()
    expect(descriptorsInto(dir)).toEqual([])
    expect(added(before, openResources())).toEqual([])
    expect(() => store.desiredState.get("web")).toThrow(
      `the runtime store ${join(dir, "state.db")} is closed (get called after close): SAM has stopped`,
    )
    // WAL is checkpointed into state.db on the last close.
    expect(readdirSync(dir)).toEqual(["state.db"])

    const again = openRuntimeStore(dir)
    expect(again.desiredState.get("web")).toEqual(desired("web", "stopped"))
    expect(again.ports.get("web", 0)).toBe(8080)
    again.close()
  })

  it("a writer SIGKILLed mid-stream leaves a database the next open reads whole", async () => {
    const dir = stateDir()
    const writer = spawn(process.execPath, [fixture("store-writer.ts"), dir], {
      stdio: ["ignore", "pipe", "inherit"],
    })
    const exited = new Promise((resolve) => writer.once("exit", resolve))
    let out = ""
    // Kill it while it writes, once it reported a good number of commits.
    const reported = await new Promise<number>((resolve, reject) => {
      writer.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString()
        const counts = out.trim().split("\n").map(Number)
        const last = counts[counts.length - 1] ?? 0
        if (last >= 500) {
          writer.kill("SIGKILL")
          resolve(last)
        }
      })
      writer.once("exit", (code) => reject(new Error(`writer exited early (${code})`)))
    })
    await exited
    const store = openRuntimeStore(dir)
    const raw = new DatabaseSync(store.file)
    expect(raw.prepare("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" })
    raw.close()
    const units = store.desiredState.list().length
    const crashes = store.crashReports.list({ limit: 1_000_000 }).length
    // Every reported commit is there, and each transaction landed whole (both rows or neither).
    expect(units).toBeGreaterThanOrEqual(reported)
    expect(crashes).toBe(units)
    store.close()
  })
})

describe("the Effect layer", () => {
  it("holds the state dir and the store for its scope, then releases both", async () => {
    const dir = stateDir()
    const program = Effect.gen(function* () {
      const store = yield* RuntimeStoreService
      store.desiredState.set(desired("web", "stopped"))
      // A second layer on the same dir, even in this process, fails with the tagged error.
      const refused = yield* Effect.flip(Effect.scoped(Layer.build(runtimeStoreLayer(dir))))
      return refused._tag
    })
    expect(await Effect.runPromise(program.pipe(Effect.provide(runtimeStoreLayer(dir))))).toBe(
      "StateDirInUse",
    )
    expect(descriptorsInto(dir)).toEqual([])
    const lock = acquireStateDir(dir)
    const store = openRuntimeStore(dir)
    expect(store.desiredState.get("web")?.state).toBe("stopped")
    store.close()
    lock.release()
  })
})
