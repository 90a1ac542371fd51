import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it, vi } from "vitest"
import { probeSpec } from "../../src/runtime/fromConfig.ts"
import { type Harness, harness, httpCheck, nodeService, survivors, waitFor } from "../support/runtime.ts"

let h: Harness | undefined
const dirs: string[] = []
afterEach(async () => {
  if (h) {
    await h.dispose()
    expect(survivors(h.pids)).toEqual([])
    h = undefined
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe("health checks", () => {
  it("a readiness failure only marks the instance unready; it is not restarted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-health-"))
    dirs.push(dir)
    const flag = join(dir, "healthy")
    writeFileSync(flag, "")
    h = harness([
      nodeService("svc", "http-service.mjs", {
        probes: [
          {
            ...httpCheck(),
            type: "exec",
            command: `test -f ${flag}`,
            role: "readiness",
            intervalMs: 50,
            failureThreshold: 2,
          },
        ],
      }),
    ])
    await h.supervisor.startAll()
    const [runner] = h.supervisor.runners("svc")
    const pid = runner!.pid
    rmSync(flag)
    await waitFor(runner!, (r) => r.state === "running" && !r.ready)
    writeFileSync(flag, "")
    await waitFor(runner!, (r) => r.ready)
    expect(runner!.pid).toBe(pid)
    expect(runner!.restarts).toBe(0)
    expect(runner!.health.some((r) => !r.ok && r.detail.includes("exit 1"))).toBe(true)
  })

  it("health events tell changes: not a booting instance's failures before its first pass, at every start", async () => {
    h = harness([nodeService("svc", "http-service.mjs", { probes: [{ ...httpCheck(), intervalMs: 50 }] })])
    const healthOf = () =>
      h!.events.flatMap((e) => (e.type === "health" && e.unit === "svc" ? [e.ok ? "ok" : "failing"] : []))
    await h.supervisor.startAll()
    expect(healthOf()).toEqual(["ok"])
    // A restart boots again (connection refused until it listens): the events say ok, once.
    await h.supervisor.command("svc", "restart")
    expect(h.supervisor.status("svc").ready).toBe(true)
    expect(healthOf()).toEqual(["ok", "ok"])
    // Its records still have every result, the refusals included.
    expect(h.supervisor.runners("svc")[0]!.health.length).toBeGreaterThan(0)
  })

  it("a check added to a running instance without one starts watching it; removed again, it is ready at once", async () => {
    const spec = nodeService("svc", "http-service.mjs", { env: { HEALTH_STATUS: "503" } })
    h = harness([spec])
    await h.supervisor.startAll()
    const [runner] = h.supervisor.runners("svc")
    // No check: ready as soon as it runs.
    expect(runner!.ready).toBe(true)
    expect(runner!.context.reason).toBe("no readiness check configured")
    const pid = runner!.pid
    // What a reload of a changed health_check does to a running instance (Supervisor.reconfigure).
    runner!.reconfigure({ ...spec, probes: [httpCheck({ intervalMs: 50, failureThreshold: 1 })] })
    await waitFor(runner!, (r) => r.state === "running" && !r.ready)
    expect(runner!.health.at(-1)).toMatchObject({ ok: false })
    runner!.reconfigure(spec)
    await waitFor(runner!, (r) => r.ready)
    expect(runner!.context.reason).toBe("no readiness check configured")
    expect(runner!.pid).toBe(pid)
    expect(runner!.restarts).toBe(0)
  })

  it("a log check: ready once a line of this incarnation matches log_line, not on an earlier incarnation's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-health-"))
    dirs.push(dir)
    const logCheck = {
      ...httpCheck(),
      type: "log",
      logLine: "^listening on \\d+$",
      role: "readiness",
    } as const
    h = harness([
      nodeService("svc", "log-ready.mjs", {
        env: { ONCE_FILE: join(dir, "said"), READY_AFTER_MS: "300" },
        probes: [logCheck],
      }),
    ])
    void h.supervisor.startAll()
    const [runner] = h.supervisor.runners("svc")
    await waitFor(runner!, (r) => r.state === "running")
    // Running, not ready: "booting" does not match.
    expect(runner!.ready).toBe(false)
    await waitFor(runner!, (r) => r.ready)
    expect(runner!.output.last().map((l) => l.line)).toContain(`listening on ${runner!.port}`)
    expect(runner!.health.at(-1)).toMatchObject({
      probe: "log",
      ok: true,
      detail: "an output line matched /^listening on \\d+$/",
    })
    // From a config, a log check is a readiness check whatever its `kind` (crossChecks refuses liveness).
    const fromConfig = probeSpec(
      {
        type: "log",
        log_line: "ready",
        interval_seconds: 10,
        timeout_seconds: 3,
        failure_threshold: 3,
        success_threshold: 1,
        start_period_seconds: 0,
        kind: "both",
      },
      "service",
    )
    expect(fromConfig).toMatchObject({ type: "log", logLine: "ready", role: "readiness" })
    // Killed, it comes back: the old incarnation's line is still in its recent output, but only
    // the new one's count, and it never says it.
    const pid = runner!.pid!
    process.kill(pid, "SIGKILL")
    await waitFor(runner!, (r) => r.state === "running" && r.pid !== pid)
    await vi.waitFor(() => expect(runner!.output.last().at(-1)?.line).toBe("not saying it again"), {
      timeout: 10_000,
      interval: 20,
    })
    expect(runner!.ready).toBe(false)
    expect(runner!.health.at(-1)).toMatchObject({
      probe: "log",
      ok: false,
      detail: "no output line has matched /^listening on \\d+$/ yet",
    })
  })

  it("a log check whose pattern backtracks for ages in JavaScript reads a 64 KB line at once, and correctly", async () => {
    // e.*r.*timeout on 64 KB of "error " never ends with a backtracking engine, F*F*F*X on 1,500
    // F takes minutes; with RE2 the long lines do not match, and the line after them does.
    const logCheck = (logLine: string) =>
      ({ ...httpCheck(), type: "log", logLine, role: "readiness" }) as const
    h = harness([
      nodeService("errors", "say-lines.mjs", {
        env: { TEXT: "error ", REPEAT: "10900", THEN: "error: connect timeout" },
        probes: [logCheck("e.*r.*timeout")],
      }),
      nodeService("effs", "say-lines.mjs", {
        env: { TEXT: "F", REPEAT: "1500", THEN: "FX" },
        probes: [logCheck("F*F*F*X")],
      }),
    ])
    void h.supervisor.startAll()
    const [errors] = h.supervisor.runners("errors")
    const [effs] = h.supervisor.runners("effs")
    await waitFor(errors!, (r) => r.ready)
    await waitFor(effs!, (r) => r.ready)
    expect(errors!.output.last().map((l) => l.line.length)).toEqual([65_400, "error: connect timeout".length])
    expect(errors!.health.at(-1)).toMatchObject({
      ok: true,
      detail: "an output line matched /e.*r.*timeout/",
    })
    expect(effs!.health.at(-1)).toMatchObject({ ok: true, detail: "an output line matched /F*F*F*X/" })
  })

  it("before a first pass, checks are fast at first and then slow down as the wait grows", async () => {
    h = harness([
      nodeService("svc", "slow-ready.mjs", {
        env: { READY_AFTER_MS: "60000" },
        probes: [httpCheck({ intervalMs: 10_000, role: "readiness" })],
      }),
    ])
    void h.supervisor.startAll(1_000)
    const [runner] = h.supervisor.runners("svc")
    await waitFor(runner!, (r) => r.state === "running")
    const began = Date.now()
    // At a steady 20 ms, 20 checks take 0.4 s; slowing to a fifth of the wait, well over 0.8 s.
    await vi.waitFor(() => expect(runner!.health.length).toBeGreaterThanOrEqual(20), {
      timeout: 20_000,
      interval: 20,
    })
    expect(Date.now() - began).toBeGreaterThan(800)
    expect(runner!.ready).toBe(false)
  })

  it("a liveness failure restarts the instance with the check's reason", async () => {
    h = harness([
      nodeService("svc", "http-service.mjs", {
        env: { HEALTH_STATUS: "500" },
        probes: [httpCheck({ role: "liveness", intervalMs: 50, failureThreshold: 2 })],
        restart: { maxRestarts: 1 },
      }),
    ])
    void h.supervisor.startAll()
    const failed = await h.next((e) => e.type === "transition" && e.unit === "svc" && e.to === "stopping")
    expect(failed).toMatchObject({
      reason: expect.stringMatching(
        /^liveness check failed \d+ times in a row[^(]*\(failure_threshold \d+\): GET .*\/health/,
      ),
    })
    await h.next((e) => e.type === "transition" && e.unit === "svc" && e.to === "backoff")
  })

  it("a tcp check passes once the port accepts connections; history keeps the last 100 results", async () => {
    h = harness([
      nodeService("svc", "http-service.mjs", {
        probes: [httpCheck({ type: "tcp", intervalMs: 5, role: "readiness" })],
      }),
    ])
    await h.supervisor.startAll()
    const [runner] = h.supervisor.runners("svc")
    expect(runner!.ready).toBe(true)
    // Probes record without transitions: poll the history itself until it has wrapped.
    await vi.waitFor(() => expect(runner!.health.length).toBe(100), { timeout: 10_000, interval: 20 })
    const oldest = runner!.health[0]!.at
    await vi.waitFor(() => expect(runner!.health[0]!.at).not.toBe(oldest), { timeout: 10_000, interval: 20 })
    expect(runner!.health.length).toBe(100)
    expect(runner!.health.at(-1)).toMatchObject({ probe: "tcp", ok: true })
  })
})
