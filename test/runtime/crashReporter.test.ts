// Crash reports from a real Sam and a real runtime store: every failure of a crash-looping unit is
// reported with its exit code and its last lines, a kill for a failed liveness check too (as
// `liveness`, with its reason), and retention keeps the newest per unit and none past the age.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { reportCrashes } from "../../src/runtime/crashReporter.ts"
import type { SamEvent } from "../../src/runtime/eventBus.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { openRuntimeStore } from "../../src/runtime/store/runtimeStore.ts"
import type { UnitSpec } from "../../src/runtime/unitSpec.ts"
import { agentUnit, removeScratch } from "../support/agents.ts"
import { fixture, httpCheck, nodeService, survivors } from "../support/runtime.ts"

let cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})
afterAll(removeScratch)

const day = 86_400_000

const withSam = (units: ReadonlyArray<UnitSpec>, retention = { maxPerUnit: 100, maxAgeMs: 30 * day }) => {
  const dir = mkdtempSync(join(tmpdir(), "sam-crashes-"))
  const store = openRuntimeStore(dir)
  const sam = new Sam({
    units,
    logs: { dir: join(dir, "logs"), maxFileBytes: 1024 * 1024, maxFiles: 1, compress: false },
  })
  const pids = new Set<number>()
  const reported: SamEvent[] = []
  sam.events.subscribe((e) => {
    if (e.type === "transition" && typeof e.pid === "number") pids.add(e.pid)
    if (e.type === "crash.reported") reported.push(e)
  })
  const off = reportCrashes(sam, store.crashReports, retention)
  cleanup.push(async () => {
    await sam.stop()
    off()
    store.close()
    expect(survivors(pids)).toEqual([])
    rmSync(dir, { recursive: true, force: true })
  })
  return { sam, store, reported }
}

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 20_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe("crash reports", () => {
  it("every failure of a crash-looping unit is reported; the newest max_per_unit are kept", async () => {
    const { sam, store, reported } = withSam(
      [
        nodeService("loop", "exit.mjs", {
          // Alive past its first usage sample (0.3 s after the spawn): the reports carry its figures.
          env: { EXIT_MESSAGE: "fatal: config missing", EXIT_CODE: "3", EXIT_AFTER_MS: "450" },
          restart: { maxRestarts: 100, backoffBaseMs: 10, backoffMaxMs: 10 },
        }),
      ],
      { maxPerUnit: 2, maxAgeMs: 30 * day },
    )
    void sam.start()
    await until(() => reported.length >= 4, "4 crash reports")
    const reports = store.crashReports.list({ unit: "loop" })
    expect(reports).toHaveLength(2)
    expect(reports[0]).toMatchObject({
      unit: "loop",
      instance: 0,
      failure: "exit",
      exitCode: 3,
      signal: null,
      reason: "exited with code 3: fatal: config missing",
      lastLines: [{ time: expect.any(String), stream: "stderr", line: "fatal: config missing" }],
    })
    // Newest first, each with the restarts before it.
    expect((reports[0]?.restarts ?? 0) > (reports[1]?.restarts ?? 0)).toBe(true)
    expect(reports[0]?.resources).toMatchObject({
      rss_bytes: expect.any(Number),
      cpu_seconds: expect.any(Number),
    })
  })

  it("a clean exit (code 0) is no crash: no report, whatever the restart policy does with it", async () => {
    const { sam, store, reported } = withSam([
      nodeService("done", "exit.mjs", { env: { EXIT_CODE: "0" }, restart: { type: "transient" } }),
      nodeService("again", "exit.mjs", {
        env: { EXIT_CODE: "0", EXIT_AFTER_MS: "50" },
        restart: { maxRestarts: 100, backoffBaseMs: 10, backoffMaxMs: 10 },
      }),
      nodeService("fails", "exit.mjs", { env: { EXIT_CODE: "3" }, restart: { type: "temporary" } }),
    ])
    let again = 0
    sam.events.subscribe((e) => {
      if (e.type === "transition" && e.unit === "again" && e.to === "backoff") again++
    })
    void sam.start()
    // A failing one next to them is reported, and the others had their exits meanwhile.
    await until(() => reported.length >= 1 && again >= 2, "fails reported, again restarted twice")
    await sam.until("done", (s) => s.state === "stopped" && s.restarts === 0)
    expect(store.crashReports.list({ unit: "fails" })).toHaveLength(1)
    expect(store.crashReports.list({ unit: "done" })).toEqual([])
    expect(store.crashReports.list({ unit: "again" })).toEqual([])
  })

  it("a kill for a failed liveness check is reported as `liveness` with the check's reason", async () => {
    const { sam, store, reported } = withSam([
      nodeService("sick", "http-service.mjs", {
        env: { HEALTH_STATUS: "500" },
        // Judged once it had time to listen (it answers 500 from then on).
        probes: [httpCheck({ role: "liveness", intervalMs: 50, failureThreshold: 2, startPeriodMs: 2_000 })],
        restart: { type: "temporary" },
      }),
    ])
    void sam.start()
    await until(() => reported.length >= 1, "a crash report")
    const [report] = store.crashReports.list({ unit: "sick" })
    expect(report).toMatchObject({
      failure: "liveness",
      reason: expect.stringMatching(
        /^liveness check failed \d+ times in a row[^(]*\(failure_threshold \d+\): GET .*\/health.*500/,
      ),
      lastLines: [{ stream: "stdout", line: expect.stringMatching(/^listening on \d+$/) }],
    })
    expect(report?.uptimeMs).toBeGreaterThan(0)
  })

  // What an agent logs through ctx.logger is its output as `sam logs` shows it, setup's lines
  // included (they come before the instance is running).
  it.each([
    ["process", "exit"],
    ["sandbox", "hang"],
  ] as const)(
    "a %s agent that dies in a handler (%s) has its logger's lines in its report",
    async (runtime, capability) => {
      const crashy = agentUnit("alpha", {
        runtime,
        agent: {
          path: fixture("agents/crashy"),
          capabilities: ["exit", "hang"],
          heartbeatIntervalMs: 100,
          heartbeatTtlMs: 600,
        },
        restart: { type: "temporary" },
      })
      const { sam, store, reported } = withSam([crashy])
      await sam.start()
      void sam.invoke(capability, { code: 3 }).catch(() => undefined)
      await until(() => reported.length >= 1, "a crash report")
      const [report] = store.crashReports.list({ unit: "alpha" })
      expect(report?.failure).toBe(capability === "exit" ? "exit" : "heartbeat")
      expect(report?.lastLines.map(({ stream, line }) => ({ stream, line }))).toEqual([
        { stream: "stdout", line: "alpha warming up" },
        capability === "exit"
          ? { stream: "stderr", line: "warn: exiting with 3" }
          : { stream: "stdout", line: "hanging" },
      ])
    },
  )

  // A kill for a limit reports the exit SAM's stop caused (not an earlier incarnation's), says it
  // in the reason, and quotes the reading over the limit, not the last periodic sample.
  it("an agent killed for max_memory_mb after an exit of its own: its stop's exit and the reading that killed it", async () => {
    const hungry = agentUnit("hungry", {
      runtime: "process",
      agent: { capabilities: ["exit", "hog"], maxMemoryMb: 200 },
      restart: { maxRestarts: 100 },
    })
    const { sam, store, reported } = withSam([hungry])
    await sam.start()
    void sam.invoke("exit", { code: 3 }).catch(() => undefined)
    await until(() => reported.length >= 1, "the exit's report")
    await sam.until("hungry", (u) => u.restarts === 1 && u.state === "running" && u.ready)
    void sam.invoke("hog", {}).catch(() => undefined)
    await until(() => reported.length >= 2, "the memory kill's report")
    const [memory, exit] = store.crashReports.list({ unit: "hungry" })
    expect(exit).toMatchObject({ failure: "exit", exitCode: 3, signal: null })
    // The SDK answers SIGTERM by running shutdown and exiting 0.
    expect(memory).toMatchObject({
      failure: "memory",
      exitCode: 0,
      signal: null,
      reason: expect.stringMatching(
        /^memory: RSS (\d+) MB exceeds max_memory_mb 200; SAM stopped it with SIGTERM: exited with code 0$/,
      ),
      resources: { killed_for: "memory", cpu_seconds: expect.any(Number) },
    })
    const mb = Number(/RSS (\d+) MB/.exec(memory?.reason ?? "")?.[1])
    expect(Math.round((memory?.resources.rss_bytes as number) / 1024 / 1024)).toBe(mb)
  })

  // Its code ran and failed: a crash of its own, unlike a spawn that failed (nothing ran).
  it.each(["process", "worker", "inline"] as const)(
    "an agent whose setup throws is reported as `setup`, with what it logged (%s)",
    async (runtime) => {
      const { sam, store, reported } = withSam([
        agentUnit("alpha", {
          runtime,
          agent: {
            path: fixture("agents/crashy"),
            capabilities: ["exit", "hang"],
            config: { fail_setup: "cannot reach the model server" },
          },
          restart: { type: "temporary" },
        }),
      ])
      void sam.start()
      await until(() => reported.length >= 1, "a crash report")
      const [report] = store.crashReports.list({ unit: "alpha" })
      expect(report).toMatchObject({
        failure: "setup",
        reason: expect.stringMatching(/^start failed: .*cannot reach the model server/),
      })
      expect(report?.lastLines.map((l) => l.line)).toContain("alpha warming up")
    },
  )

  it("reports older than max_age are deleted when SAM starts", () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-crashes-"))
    const store = openRuntimeStore(dir)
    cleanup.push(() => {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    })
    const at = (ms: number) => ({
      unit: "old",
      instance: 0,
      time: new Date(ms).toISOString(),
      failure: "exit",
      exitCode: 1,
      signal: null,
      reason: "exited with code 1",
      uptimeMs: 1,
      restarts: 0,
      lastLines: [],
      resources: {},
    })
    const recent = at(Date.now() - day)
    store.crashReports.insert(at(Date.now() - 40 * day))
    store.crashReports.insert(recent)
    const sam = new Sam({ units: [] })
    const off = reportCrashes(sam, store.crashReports, { maxPerUnit: 100, maxAgeMs: 30 * day })
    off()
    expect(store.crashReports.list().map((r) => r.time)).toEqual([recent.time])
  })
})
