import { afterEach, describe, expect, it } from "vitest"
import { controlClient } from "../../src/api/controlClient.ts"
import { fetchUnits, formatTable } from "../../src/cli/unitTable.ts"
import { unavailable } from "../../src/gateway/unavailable.ts"
import {
  type GatewayHarness,
  gatewaySpec,
  LOCAL_TEST_TOKEN,
  startGateway,
  upstream,
} from "../support/gateway.ts"
import { nodeService } from "../support/runtime.ts"

let h: GatewayHarness | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  expect(left ?? []).toEqual([])
})

const json = async (response: Response) => (await response.json()) as Record<string, unknown>

/** Send `count` GETs one after another; the statuses and instances that answered. */
const serial = async (url: string, count: number) => {
  const out: Array<{ status: number; instance?: string }> = []
  for (let i = 0; i < count; i++) {
    const response = await fetch(url)
    const body = (await response.json()) as { instance?: string }
    out.push({
      status: response.status,
      ...(body.instance === undefined ? {} : { instance: String(body.instance) }),
    })
  }
  return out
}

describe("instances that fail", () => {
  it("a SIGKILLed instance stops getting traffic at once; the requests sent meanwhile are retried on the other", async () => {
    h = await startGateway([upstream("api", { instances: 2, maxInstances: 2 })])
    await h.routable("api", 2)
    const victim = h.sam.unitStatus("api").instances[1]!
    // What the routing table held the moment SAM saw the instance die.
    const tableAtDeath: number[][] = []
    h.sam.events.subscribe((e) => {
      if (e.type === "transition" && e.unit === "api" && e.instance === 1 && e.from.startsWith("running"))
        tableAtDeath.push(
          h!.gateway
            .routing()
            .services.get("api")!
            .endpoints.map((x) => x.instance),
        )
    })
    // Requests in flight while the instance dies, and right after: four clients, 15 requests each,
    // the kill after the first ten answers. (Bounded concurrency: how many requests the victim
    // holds when it dies must not depend on how loaded the machine is.)
    const statuses: number[] = []
    let killed: (() => void) | undefined
    const tenAnswered = new Promise<void>((resolve) => {
      killed = resolve
    })
    const client = async () => {
      for (let i = 0; i < 15; i++) {
        const response = await fetch(`${h!.url}/api/api/whoami`)
        await response.arrayBuffer()
        statuses.push(response.status)
        if (statuses.length === 10) killed?.()
      }
    }
    const load = Promise.all([client(), client(), client(), client()])
    await tenAnswered
    process.kill(victim.pid as number, "SIGKILL")
    await load
    expect(statuses).toHaveLength(60)
    const after = await serial(`${h.url}/api/api/whoami`, 20)
    expect(after.every((r) => r.status === 200)).toBe(true)
    expect(tableAtDeath[0]).toEqual([0])
    // At most a few failed: those the instance had accepted when it was killed.
    expect(statuses.filter((s) => s !== 200).length).toBeLessThanOrEqual(3)
  })

  it("a reset connection is retried on another instance, and the metrics' record counts the retries", async () => {
    h = await startGateway([upstream("api", { instances: 2, maxInstances: 2 })])
    await h.routable("api", 2)
    const records: Array<{ status: number; retries?: number }> = []
    const off = h.gateway.metrics.onRequest((r) => records.push(r))
    const response = await fetch(`${h.url}/api/api/reset`)
    expect(response.status).toBe(502)
    off()
    const retried = h.gateway.stats().services.api?.retries ?? 0
    expect(retried).toBeGreaterThanOrEqual(1)
    // The same count reaches the metrics (sam_gateway_retries_total): a 502 that was retried.
    expect(records).toEqual([expect.objectContaining({ status: 502, retries: retried })])
    // A request answered at once has none.
    const plain = h.gateway.metrics.onRequest((r) => records.push(r))
    expect((await fetch(`${h.url}/api/api/whoami`)).status).toBe(200)
    plain()
    expect(records[1]).not.toHaveProperty("retries")
    expect(records.some((r) => "refusedBy" in r)).toBe(false)
    // Stopped, it has no instance: the gateway's own 503, counted as such.
    await h.sam.services.stop("api")
    const refused: Array<string | undefined> = []
    const off2 = h.gateway.metrics.onRequest((r) => refused.push(r.refusedBy))
    expect((await fetch(`${h.url}/api/api/whoami`)).status).toBe(503)
    off2()
    expect(refused).toEqual(["unavailable"])
  })

  it("an instance that turns unready leaves the table within one probe interval and comes back when ready", async () => {
    h = await startGateway([upstream("api", { instances: 2, maxInstances: 2 })])
    await h.routable("api", 2)
    const port = h.sam.unitStatus("api").instances[1]!.port
    await fetch(`http://127.0.0.1:${port}/unready`)
    await h.sam.until("api", (s) => s.instances[1]?.ready === false, 5_000)
    expect(
      h.gateway
        .routing()
        .services.get("api")
        ?.endpoints.map((e) => e.instance),
    ).toEqual([0])
    const after = await serial(`${h.url}/api/api/whoami`, 10)
    expect(after.every((r) => r.instance === "0")).toBe(true)
    await fetch(`http://127.0.0.1:${port}/ready`)
    await h.routable("api", 2)
  })

  it("an instance answering 5xx in a row is ejected: traffic goes to the healthy one", async () => {
    h = await startGateway([
      upstream("api", {
        instances: 2,
        maxInstances: 2,
        gateway: { outlier: { consecutiveFailures: 3 }, breaker: { enabled: false } },
      }),
    ])
    await h.routable("api", 2)
    // /status/500 fails on every instance; the instance that answers it 3 times in a row is ejected.
    for (let i = 0; i < 6; i++) await fetch(`${h.url}/api/api/status/500`)
    const after = await serial(`${h.url}/api/api/whoami`, 10)
    // One of the two (max_ejection_percent 50) is out: all answers come from the other.
    expect(new Set(after.map((r) => r.instance)).size).toBe(1)
  })

  it("the breaker opens on failures (503 with Retry-After), probes half-open, and closes again", async () => {
    const events: string[] = []
    h = await startGateway([
      upstream("api", {
        gateway: {
          breaker: { minRequests: 5, failurePercent: 50, openMs: 300, halfOpenRequests: 2 },
          retries: { attempts: 1 },
        },
      }),
    ])
    h.sam.events.subscribe((e) => {
      if (e.type === "gateway.breaker") events.push(String(e.state))
    })
    // What the metrics see (sam_gateway_breaker_state, the breaker_open alert).
    const metered: string[] = []
    h.gateway.metrics.onBreaker((change) => void metered.push(`${change.service}:${change.state}`))
    // The service's own 503s and the breaker's are told apart (sam_gateway_refused_total).
    const answers: Array<[number, string | undefined]> = []
    h.gateway.metrics.onRequest((r) => void answers.push([r.status, r.refusedBy]))
    await h.routable("api", 1)
    for (let i = 0; i < 5; i++) expect((await fetch(`${h.url}/api/api/status/503`)).status).toBe(503)
    const refused = await fetch(`${h.url}/api/api/whoami`)
    expect(refused.status).toBe(503)
    expect(answers.slice(0, 6)).toEqual([
      ...Array.from({ length: 5 }, () => [503, undefined]),
      [503, "breaker_open"],
    ])
    expect(refused.headers.get("retry-after")).toBe("1")
    expect((await json(refused)).detail).toContain('the breaker of "api" is open')
    expect(h.gateway.stats().services.api?.breaker).toBe("open")
    // After open_seconds it lets probes through; two good ones close it.
    await new Promise<void>((resolve) => {
      const off = h!.sam.events.subscribe((e) => {
        if (e.type === "gateway.breaker" && e.state === "halfOpen") {
          off()
          resolve()
        }
      })
    })
    expect((await fetch(`${h.url}/api/api/whoami`)).status).toBe(200)
    expect((await fetch(`${h.url}/api/api/whoami`)).status).toBe(200)
    expect(h.gateway.stats().services.api?.breaker).toBe("closed")
    expect(events).toEqual(["open", "halfOpen", "closed"])
    expect(metered).toEqual(["api:open", "api:half_open", "api:closed"])
    expect(new Map(h.gateway.metrics.breakers()).get("api")).toBe("closed")
  })

  it("an open breaker shows in the service's status (gateway.breaker) and under `sam ps`'s table", async () => {
    h = await startGateway([
      upstream("api", { gateway: { breaker: { openMs: 60_000 }, retries: { attempts: 1 } } }),
      upstream("quiet", { gateway: { breaker: { enabled: false } } }),
      upstream("hidden", { gateway: { enabled: false } }),
    ])
    await h.routable("api", 1)
    const client = controlClient({ url: h.url, token: LOCAL_TEST_TOKEN })
    const view = async (id: string) => (await client.services.get({ params: { id } })).gateway
    expect((await view("api"))?.breaker?.state).toBe("closed")
    expect(await view("quiet")).toEqual({ breaker: null })
    expect(await view("hidden")).toBeNull()
    // The trial's story: 20 requests answered 500 open it (min_requests 20, failure_percent 50).
    for (let i = 0; i < 20; i++) expect((await fetch(`${h.url}/api/api/status/500`)).status).toBe(500)
    expect((await fetch(`${h.url}/api/api/whoami`)).status).toBe(503)
    const breaker = (await view("api"))?.breaker
    expect(breaker).toMatchObject({
      state: "open",
      reason: "20 of 20 calls failed in 10 s (breaker.failure_percent 50)",
    })
    const since = Date.parse(breaker?.since ?? "")
    expect(Math.abs(since - Date.now())).toBeLessThan(5_000)
    expect(Date.parse(breaker?.until ?? "")).toBe(since + 60_000)
    const clock = (iso: string) => new Date(iso).toTimeString().slice(0, 8)
    const ps = formatTable(await fetchUnits(client))
    expect(ps).toContain(
      `\napi: gateway breaker open since ${clock(breaker!.since)}: 20 of 20 calls failed in 10 s (breaker.failure_percent 50); the gateway answers its requests with 503 until ${clock(breaker!.until!)}, then lets probe calls through\n`,
    )
    expect(ps).not.toMatch(/^(quiet|hidden): /m)
  })

  it("each routed service's breaker is reported closed from the start (sam_gateway_breaker_state), and forgotten with the service", async () => {
    const api = upstream("api")
    h = await startGateway([
      api,
      upstream("quiet", { gateway: { breaker: { enabled: false } } }),
      upstream("hidden", { gateway: { enabled: false } }),
    ])
    const heard: string[] = []
    h.gateway.metrics.onBreaker((change) => void heard.push(`${change.service}:${change.state}`))
    await h.routable("api", 1)
    // What the gauge reads at each scrape: a series for api before its breaker ever changed.
    expect(new Map(h.gateway.metrics.breakers())).toEqual(new Map([["api", "closed"]]))
    await h.sam.apply({
      units: [upstream("quiet", { gateway: { breaker: { enabled: false } } })],
      groups: [],
    })
    // What `sam start`'s reload publishes once applied (Sam.apply alone does not).
    h.sam.bus.publish({ type: "config.reloaded" })
    expect(new Map(h.gateway.metrics.breakers())).toEqual(new Map())
    // Starting a series is no transition (sam_gateway_breaker_transitions_total, the breaker_open alert).
    expect(heard).toEqual([])
  })

  it("beyond max_in_flight requests are shed with 503 and Retry-After", async () => {
    h = await startGateway([upstream("api", { gateway: { maxInFlight: 2 } })])
    await h.routable("api", 1)
    const refusals: Array<string | undefined> = []
    h.gateway.metrics.onRequest((r) => refusals.push(r.refusedBy))
    const slow = [fetch(`${h.url}/api/api/slow?ms=400`), fetch(`${h.url}/api/api/slow?ms=400`)]
    // Both are admitted before the third comes (admission is synchronous on arrival).
    await new Promise<void>((resolve) => {
      const poll = () =>
        (h!.gateway.stats().services.api?.inFlight ?? 0) >= 2 ? resolve() : setImmediate(poll)
      poll()
    })
    const shed = await fetch(`${h.url}/api/api/whoami`)
    expect(shed.status).toBe(503)
    expect(shed.headers.get("retry-after")).toBe("1")
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200])
    expect(h.gateway.stats().services.api?.shed).toBe(1)
    // The metrics tell the gateway's own 503 from the service's answers (sam_gateway_refused_total).
    expect(refusals.filter((r) => r !== undefined)).toEqual(["max_in_flight"])
  })

  it("a stream that pauses longer than idle_ms is cut", async () => {
    h = await startGateway([upstream("api", { gateway: { timeouts: { idleMs: 300 } } })])
    await h.routable("api", 1)
    const response = await fetch(`${h.url}/api/api/hang?stream`)
    expect(response.status).toBe(200)
    await expect(response.text()).rejects.toThrow()
    expect(h.gateway.stats().services.api?.upstreamErrors.timeout).toBe(1)
  })

  it("a service that sends no headers within ttfb_ms answers 504", async () => {
    h = await startGateway([upstream("api", { gateway: { timeouts: { ttfbMs: 200 } } })])
    await h.routable("api", 1)
    const response = await fetch(`${h.url}/api/api/hang`)
    expect(response.status).toBe(504)
    expect((await json(response)).detail).toContain("gateway.timeouts.ttfb_ms")
  })

  it("ttfb_ms holds to the millisecond's scale, not undici's half-second timer tick", async () => {
    h = await startGateway([
      upstream("api", { gateway: { timeouts: { ttfbMs: 300 }, breaker: { enabled: false } } }),
    ])
    await h.routable("api", 1)
    // Headers after 700 ms: past 300 ms, inside undici's tick (it answered these 200).
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${h.url}/api/api/slow?ms=700`)
      expect(response.status).toBe(504)
      await response.arrayBuffer()
    }
    expect(h.gateway.stats().services.api?.upstreamErrors.timeout).toBe(3)
    // Headers in time: the bound is per attempt and cleared with the headers.
    expect((await fetch(`${h.url}/api/api/slow?ms=50`)).status).toBe(200)
  })
})

describe("a service with no ready instance", () => {
  it("in backoff: 503 says when SAM starts it again, and Retry-After gives those seconds", async () => {
    h = await startGateway(
      [
        upstream("idle"),
        nodeService("flaky", "exit.mjs", {
          env: { EXIT_AFTER_MS: "0" },
          restart: { backoffBaseMs: 30_000, backoffMaxMs: 30_000 },
          gateway: gatewaySpec(),
        }),
      ],
      { start: false },
    )
    await h.sam.start(["idle"])
    h.sam.services.start("flaky").catch(() => undefined)
    await h.sam.until("flaky", (s) => s.state === "backoff")
    const refused = await fetch(`${h.url}/api/flaky/whoami`)
    expect(refused.status).toBe(503)
    const seconds = Number(refused.headers.get("retry-after"))
    expect(seconds).toBeGreaterThanOrEqual(25)
    expect(seconds).toBeLessThanOrEqual(30)
    expect((await json(refused)).detail).toBe(
      `"flaky" has no ready instance: it is in backoff after a failure; SAM starts it again in ${seconds} s`,
    )
    // Stopped by an operator: nothing changes by itself, so no Retry-After, and the way back is named.
    await h.sam.services.stop("idle")
    const stopped = await fetch(`${h.url}/api/idle/whoami`)
    expect(stopped.status).toBe(503)
    expect(stopped.headers.get("retry-after")).toBeNull()
    expect((await json(stopped)).detail).toBe(
      '"idle" has no ready instance: it is stopped (`sam start idle` starts it)',
    )
  })

  it("the answer for each state (pure)", () => {
    const at = (state: string, nextAttemptAt?: number) =>
      unavailable({ id: "db", state, nextAttemptAt }, 1_000_000)
    expect(at("backoff", 1_004_200)).toEqual({
      detail: '"db" has no ready instance: it is in backoff after a failure; SAM starts it again in 5 s',
      retryAfterSeconds: 5,
    })
    // Due already (the start is on its way): still at least a second.
    expect(at("backoff", 999_000).retryAfterSeconds).toBe(1)
    expect(at("crashed", 1_060_000)).toEqual({
      detail: '"db" has no ready instance: it is crashed; SAM starts it again in 60 s',
      retryAfterSeconds: 60,
    })
    expect(at("crashed")).toEqual({
      detail: '"db" has no ready instance: it is crashed and SAM does not restart it (`sam ps db` says why)',
    })
    expect(at("suspended")).toEqual({
      detail: '"db" has no ready instance: it is suspended (`sam resume db` resumes it)',
    })
    expect(at("starting")).toEqual({
      detail: '"db" has no ready instance (it is starting); retry shortly',
      retryAfterSeconds: 1,
    })
  })
})
