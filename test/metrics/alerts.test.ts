// Stories of alert rules with real webhook receivers (node:http on 127.0.0.1): a readiness check
// that fails for for_seconds fires unit_unready, and passing again resolves it, in Alertmanager's
// webhook format and in the store's history; an operator stop fires nothing; a unit that keeps
// crashing fires crash_loop; a receiver that is down or never answers does not hold SAM up.
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { startApiServer } from "../../src/api/apiServer.ts"
import { controlClient } from "../../src/api/controlClient.ts"
import { createSam } from "../../src/app/createSam.ts"
import { zeroTime } from "../../src/metrics/alerts/alertmanager.ts"
import { alertRule } from "../../src/metrics/alerts/alertRule.ts"
import { Monitoring } from "../../src/metrics/monitoring.ts"
import type { SamEvent } from "../../src/runtime/eventBus.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { runSam } from "../cli/runSam.ts"
import { fixture, nodeService, survivors } from "../support/runtime.ts"
import { type Receiver, startReceiver, until } from "./support.ts"

/** The control API always needs a credential: the local admin token a `sam start` would write. */
const TOKEN = "alerts-test-token-0123456789"

interface Payload {
  readonly version: string
  readonly status: string
  readonly receiver: string
  readonly groupLabels: Record<string, string>
  readonly alerts: ReadonlyArray<{
    readonly status: string
    readonly labels: Record<string, string>
    readonly annotations: Record<string, string>
    readonly startsAt: string
    readonly endsAt: string
    readonly fingerprint: string
  }>
}

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "sam-alerts-"))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const receiver = async (options: { status?: number; hang?: boolean } = {}): Promise<Receiver> => {
  const r = await startReceiver(options)
  cleanups.push(() => r.close())
  return r
}

const process_ = (script: string, env: Record<string, string> = {}) => ({
  mode: "process" as const,
  command: process.execPath,
  args: [fixture(script)],
  env,
})
const readiness = {
  endpoint: "/health",
  interval_seconds: 0.1,
  failure_threshold: 1,
  kind: "readiness" as const,
}

describe("alert rules from the config, with a real webhook receiver", () => {
  it("unit_unready fires once readiness has failed for for_seconds and resolves when it passes; an operator stop fires nothing", async () => {
    const dir = scratch()
    const hook = await receiver()
    const flag = join(dir, "api-unhealthy")
    const sam = await createSam(
      {
        runtime: { state_dir: join(dir, "state") },
        services: {
          api: {
            deployment: process_("toggle-health.mjs", { UNHEALTHY_FILE: flag }),
            health_check: readiness,
          },
          steady: { deployment: process_("http-service.mjs"), health_check: readiness },
        },
        monitoring: {
          alerts: {
            "api-down": {
              when: "unit_unready",
              units: ["api"],
              for_seconds: 1,
              severity: "critical",
              webhook: hook.url,
            },
            "steady-down": { when: "unit_unready", units: ["steady"], for_seconds: 0.3, webhook: [hook.url] },
          },
        },
      },
      { logFile: false, plugins: false },
    )
    const events: SamEvent[] = []
    sam.events.subscribe((e) => void events.push(e))
    const server = await startApiServer({ sam, port: 0, monitoring: sam.monitoring, localToken: TOKEN })
    const pids = new Set<number>()
    cleanups.push(async () => {
      for (const u of sam.status().units) for (const i of u.instances) if (i.pid) pids.add(i.pid)
      await sam.stop()
      await server.close()
      expect(survivors(pids)).toEqual([])
    })
    expect((await sam.start()).ready).toEqual(["api", "steady"])
    for (const u of sam.status().units) if (u.pid) pids.add(u.pid)

    // The operator stops steady: meant to be down, so its rule (0.3 s) must never fire...
    await sam.services.stop("steady")
    // ...which the api-down alert, firing a whole second after api turns unready, shows.
    writeFileSync(flag, "")
    await until("the receiver got the firing alert", () => hook.bodies.length >= 1)
    const firing = hook.bodies[0] as Payload
    expect(firing).toMatchObject({
      version: "4",
      status: "firing",
      receiver: "sam",
      groupLabels: { alertname: "api-down" },
    })
    expect(firing.alerts).toHaveLength(1)
    const alert = firing.alerts[0]!
    expect(alert.labels).toEqual({
      alertname: "api-down",
      when: "unit_unready",
      severity: "critical",
      unit: "api",
    })
    expect(alert.annotations.summary).toMatch(/^api is not ready \(running\.unready\): /)
    expect(alert.endsAt).toBe(zeroTime)
    const unready = events.find(
      (e) => e.type === "transition" && e.unit === "api" && e.to === "running.unready",
    )
    expect(Date.parse(alert.startsAt) - Date.parse(unready!.at)).toBeGreaterThanOrEqual(900)
    expect(
      events.filter((e) => e.type === "alert.firing").map((e) => (e as Record<string, unknown>).rule),
    ).toEqual(["api-down"])
    const client = controlClient({ url: server.url, token: TOKEN })
    const listed = await client.alerts.list()
    expect(listed.active.map((a) => [a.rule, a.unit, a.state])).toEqual([["api-down", "api", "firing"]])
    expect(listed.rules).toEqual([
      { name: "api-down", when: "unit_unready" },
      { name: "steady-down", when: "unit_unready" },
    ])
    const shown = await runSam(["alerts"], { env: { SAM_URL: server.url, SAM_TOKEN: TOKEN } })
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toMatch(
      /^STATE +RULE +UNIT +SINCE \(UTC\) +ENDED \(UTC\) +SUMMARY\nFIRING +api-down +api +\d{4}-/,
    )

    unlinkSync(flag)
    await until("the receiver got the resolved alert", () => hook.bodies.length >= 2)
    const resolved = hook.bodies[1] as Payload
    expect(resolved.status).toBe("resolved")
    expect(resolved.alerts[0]?.labels).toEqual(alert.labels)
    expect(resolved.alerts[0]?.fingerprint).toBe(alert.fingerprint)
    expect(resolved.alerts[0]?.startsAt).toBe(alert.startsAt)
    expect(Date.parse(resolved.alerts[0]!.endsAt)).toBeGreaterThanOrEqual(Date.parse(alert.startsAt))
    expect(
      events.filter((e) => e.type === "alert.resolved").map((e) => (e as Record<string, unknown>).rule),
    ).toEqual(["api-down"])

    // Nothing about steady, ever; and the history is in the store.
    expect(hook.bodies.flatMap((b) => (b as Payload).alerts.map((a) => a.labels.unit))).toEqual([
      "api",
      "api",
    ])
    const history = sam.store.alertHistory.list()
    expect(history).toHaveLength(1)
    expect(history[0]).toMatchObject({
      rule: "api-down",
      unit: "api",
      state: "resolved",
      startedAt: alert.startsAt,
    })
    expect(history[0]?.endedAt).toBe(resolved.alerts[0]?.endsAt)
    const after = await client.alerts.list()
    expect(after.active).toEqual([])
    expect(after.recent.map((a) => [a.rule, a.state])).toEqual([["api-down", "resolved"]])
  })

  it("crash_loop fires for a unit that crashes past its restart intensity (and restart_rate before it)", async () => {
    const dir = scratch()
    const hook = await receiver()
    const sam = await createSam(
      {
        runtime: { state_dir: join(dir, "state") },
        services: {
          flaky: {
            deployment: process_("exit.mjs", { EXIT_AFTER_MS: "30", EXIT_CODE: "3" }),
            restart_policy: {
              max_restarts: 2,
              window_seconds: 60,
              backoff_seconds: 0.05,
              max_backoff_seconds: 60,
            },
          },
        },
        monitoring: {
          alerts: {
            looping: { when: "crash_loop", webhook: hook.url },
            restarting: { when: "restart_rate", threshold: 2, window_seconds: 60, webhook: hook.url },
          },
        },
      },
      { logFile: false, plugins: false },
    )
    cleanups.push(() => sam.stop())
    await sam.start()
    await until("both alerts reached the receiver", () => hook.bodies.length >= 2)
    const byRule = new Map(hook.bodies.map((b) => [(b as Payload).alerts[0]?.labels.alertname, b as Payload]))
    const looping = byRule.get("looping")!.alerts[0]!
    expect(looping.labels).toEqual({
      alertname: "looping",
      when: "crash_loop",
      severity: "warning",
      unit: "flaky",
    })
    expect(looping.annotations.summary).toMatch(
      /^flaky is crash-looping since \d{4}-.+, 2 restarts \(next attempt at \d{4}-.+\): exited with code 3/,
    )
    const restarting = byRule.get("restarting")!.alerts[0]!
    expect(restarting.annotations.summary).toBe("flaky restarted 2 times in the last 60 s (threshold 2)")
    expect(sam.unitStatus("flaky").state).toBe("crashed")
  })
})

describe("webhook receivers that fail", () => {
  it("a receiver that is down or never answers does not hold SAM up: bounded retries, then a report", async () => {
    const dir = scratch()
    const hanging = await receiver({ hang: true })
    const failing = await receiver({ status: 503 })
    const refusing = await receiver({ status: 400 })
    const down = await receiver()
    await down.close() // its port now refuses connections
    const sam = new Sam({
      units: [nodeService("flaky", "exit.mjs", { restart: { maxRestarts: 0 } })],
      containment: false,
    })
    const events: SamEvent[] = []
    sam.events.subscribe((e) => void events.push(e))
    const monitoring = new Monitoring(sam, {
      alerts: [
        alertRule("looping", {
          when: "crash_loop",
          severity: "critical",
          webhook: [hanging.url, failing.url, refusing.url, down.url],
        }),
      ],
      alertIntervalMs: 50,
      webhook: { attempts: 3, backoffMs: 20, timeoutMs: 300 },
    }).start()
    const server = await startApiServer({ sam, port: 0, monitoring, stateDir: dir, localToken: TOKEN })
    cleanups.push(async () => {
      monitoring.close()
      await sam.stop()
      await server.close()
    })
    await sam.start()
    // The alert is out on the bus and the API at once, whatever the receivers do.
    await until("the alert fired", () => events.some((e) => e.type === "alert.firing"))
    const client = controlClient({ url: server.url, token: TOKEN })
    expect((await client.alerts.list()).active.map((a) => a.state)).toEqual(["firing"])
    expect((await client.system.status()).services.total).toBe(1)
    // Each receiver gets at most `attempts` tries, then SAM says so and stops trying; a 4xx
    // answer (the receiver refuses the body) is not retried.
    await until(
      "every receiver was given up on",
      () => events.filter((e) => e.type === "alert.webhook_failed").length >= 4,
    )
    const failures = events.filter((e) => e.type === "alert.webhook_failed") as Array<Record<string, unknown>>
    expect(failures.map((e) => Number(e.attempts)).sort()).toEqual([1, 3, 3, 3])
    const details = failures.map((e) => String(e.detail)).sort()
    // Sorted text puts the receivers in port order, which is random: count the retried ones.
    expect(
      details.filter((d) =>
        /^alert looping: webhook http:\/\/127\.0\.0\.1:\d+\/… failed after 3 attempt\(s\): /.test(d),
      ),
    ).toHaveLength(3)
    expect(details.some((d) => d.endsWith("answered 503"))).toBe(true)
    expect(details.some((d) => d.endsWith("answered 400"))).toBe(true)
    expect(details.some((d) => d.endsWith("no answer within 300 ms"))).toBe(true)
    expect(details.some((d) => d.includes("ECONNREFUSED"))).toBe(true)
    expect(hanging.requests()).toBe(3)
    expect(failing.requests()).toBe(3)
    expect(refusing.requests()).toBe(1)
  })
})

describe("alerts across SAM's stop and start", () => {
  it("stopping SAM is no news: open alerts end in the history without a webhook; a new SAM closes what a dead one left open", async () => {
    const dir = scratch()
    const hook = await receiver()
    const { openRuntimeStore } = await import("../../src/runtime/store/runtimeStore.ts")
    const store = openRuntimeStore(join(dir, "state"))
    cleanups.push(() => store.close())
    const left = store.alertHistory.insert({
      rule: "old",
      unit: "gone",
      state: "firing",
      startedAt: "2026-01-01T00:00:00.000Z",
      endedAt: null,
      labels: {},
      annotations: {},
    })
    const sam = new Sam({
      units: [nodeService("flaky", "exit.mjs", { restart: { maxRestarts: 0, onExhausted: "give_up" } })],
      containment: false,
    })
    const monitoring = new Monitoring(sam, {
      alerts: [alertRule("looping", { when: "crash_loop", severity: "critical", webhook: hook.url })],
      alertHistory: store.alertHistory,
      alertIntervalMs: 50,
    }).start()
    const reopened = store.alertHistory.list().find((r) => r.id === left.id)
    expect(reopened?.state).toBe("resolved")
    expect(reopened?.endedAt).not.toBeNull()
    await sam.start()
    await until("the firing alert reached the receiver", () => hook.bodies.length === 1)
    await sam.stop()
    monitoring.close()
    const row = store.alertHistory.list({ rule: "looping" })[0]
    expect(row?.state).toBe("resolved")
    expect(row?.endedAt).not.toBeNull()
    expect(hook.bodies.map((b) => (b as Payload).status)).toEqual(["firing"])
  })
})
