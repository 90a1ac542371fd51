// The gateway's pure parts as stories: balancers, outlier ejection, token buckets, the retry
// budget, the breaker machine, header rules, cache freshness and the routing table.
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { breakerMachine } from "../../src/actors/breaker.machine.ts"
import { Balancer } from "../../src/gateway/balancer.ts"
import { CircuitBreaker } from "../../src/gateway/circuitBreaker.ts"
import { authorize } from "../../src/gateway/gatewayAuth.ts"
import { clientResponseHeaders, cookieValue, upstreamRequestHeaders } from "../../src/gateway/headers.ts"
import { OutlierDetector } from "../../src/gateway/outlierDetector.ts"
import { freshnessMs, ResponseCache, requestMayUseCache } from "../../src/gateway/responseCache.ts"
import { buildRoutingTable, type Endpoint, gatewayTarget } from "../../src/gateway/routingTable.ts"
import { RetryBudget, SlidingWindow } from "../../src/gateway/slidingWindow.ts"
import { TokenBuckets } from "../../src/gateway/tokenBucket.ts"
import { defaultGatewaySpec } from "../../src/runtime/gatewaySpec.ts"

const endpoint = (instance: number, startedAt?: number): Endpoint => ({
  unit: "api",
  instance,
  url: `http://127.0.0.1:${9000 + instance}`,
  startedAt,
})
const three = [endpoint(0), endpoint(1), endpoint(2)]
const count = (picks: Array<Endpoint | undefined>) => {
  const out: Record<number, number> = {}
  for (const p of picks) if (p) out[p.instance] = (out[p.instance] ?? 0) + 1
  return out
}

describe("balancers", () => {
  it("least_request (power of two choices) sends to the less busy of two random instances", () => {
    const busy = new Map([[three[0]!.url, 10]])
    const b = new Balancer({ policy: "least_request", weights: [], slowStartMs: 0 })
    const picks = Array.from({ length: 300 }, () =>
      b.pick(three, { now: 0, inFlight: (e) => busy.get(e.url) ?? 0 }),
    )
    const seen = count(picks)
    // Instance 0 is picked only when both random choices are it, which P2C never allows.
    expect(seen[0]).toBeUndefined()
    expect(seen[1]! + seen[2]!).toBe(300)
  })

  it("round_robin takes turns; weighted follows the weights smoothly", () => {
    const rr = new Balancer({ policy: "round_robin", weights: [], slowStartMs: 0 })
    expect(count(Array.from({ length: 30 }, () => rr.pick(three, { now: 0, inFlight: () => 0 })))).toEqual({
      0: 10,
      1: 10,
      2: 10,
    })
    const w = new Balancer({ policy: "weighted", weights: [3, 1], slowStartMs: 0 })
    const picks = Array.from({ length: 8 }, () =>
      w.pick([endpoint(0), endpoint(1)], { now: 0, inFlight: () => 0 }),
    )
    expect(picks.map((p) => p?.instance)).toEqual([0, 0, 1, 0, 0, 0, 1, 0])
  })

  it("hash keeps a key on one instance, and moves only the keys of an instance that goes", () => {
    const h = new Balancer({ policy: "hash", weights: [], slowStartMs: 0 })
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`)
    const before = keys.map((key) => h.pick(three, { now: 0, inFlight: () => 0, key })?.instance)
    expect(keys.map((key) => h.pick(three, { now: 0, inFlight: () => 0, key })?.instance)).toEqual(before)
    const after = keys.map(
      (key) => h.pick([three[0]!, three[1]!], { now: 0, inFlight: () => 0, key })?.instance,
    )
    keys.forEach((_, i) => {
      if (before[i] !== 2) expect(after[i]).toBe(before[i])
    })
    expect(new Set(before).size).toBe(3)
  })

  it("slow start gives a new instance a growing share", () => {
    const b = new Balancer({ policy: "round_robin", weights: [], slowStartMs: 10_000 })
    const fresh = [endpoint(0, 0), endpoint(1, 9_000)]
    const picks = count(Array.from({ length: 100 }, () => b.pick(fresh, { now: 10_000, inFlight: () => 0 })))
    // Instance 1 is 1 s into a 10 s slow start: weight 0.1 against 1.
    expect(picks[1]).toBeLessThan(15)
    expect(b.weight(endpoint(1, 9_000), 19_000)).toBe(1)
  })
})

describe("outlier ejection", () => {
  const settings = {
    consecutiveFailures: 3,
    baseEjectionMs: 1_000,
    maxEjectionPercent: 50,
    panicThresholdPercent: 50,
  }

  it("ejects after consecutive failures for base × n, and lets the instance back after", () => {
    const o = new OutlierDetector(settings)
    const url = three[0]!.url
    expect(o.recordFailure(url, 0, 3)).toBe(false)
    expect(o.recordFailure(url, 0, 3)).toBe(false)
    expect(o.recordFailure(url, 0, 3)).toBe(true)
    expect(o.eligible(three, 500).map((e) => e.instance)).toEqual([1, 2])
    expect(o.eligible(three, 1_001).map((e) => e.instance)).toEqual([0, 1, 2])
    // The second ejection lasts twice as long.
    for (let i = 0; i < 3; i++) o.recordFailure(url, 1_100, 3)
    expect(o.isEjected(url, 3_000)).toBe(true)
    expect(o.isEjected(url, 3_101)).toBe(false)
  })

  it("never ejects more than max_ejection_percent; below the panic threshold all instances get traffic", () => {
    const o = new OutlierDetector(settings)
    const two = [endpoint(0), endpoint(1)]
    for (let i = 0; i < 3; i++) o.recordFailure(two[0]!.url, 0, 2)
    for (let i = 0; i < 3; i++) expect(o.recordFailure(two[1]!.url, 0, 2)).toBe(false)
    expect(o.eligible(two, 10).map((e) => e.instance)).toEqual([1])
    const panicky = new OutlierDetector({ ...settings, maxEjectionPercent: 100, panicThresholdPercent: 60 })
    for (let i = 0; i < 3; i++) panicky.recordFailure(two[0]!.url, 0, 2)
    // One healthy of two is 50% < 60%: panic, balance over both.
    expect(panicky.eligible(two, 10)).toHaveLength(2)
  })
})

describe("token buckets", () => {
  it("allow a burst, then one request per 1/rate seconds; the headers say quota, remaining and reset", () => {
    const b = new TokenBuckets(2, 4)
    const answers = Array.from({ length: 5 }, () => b.take("ip", 0))
    expect(answers.map((a) => a.allowed)).toEqual([true, true, true, true, false])
    expect(answers[4]).toEqual({ allowed: false, remaining: 0, resetSeconds: 2, retryAfterSeconds: 1 })
    expect(b.take("ip", 500).allowed).toBe(true)
    expect(b.take("other", 500).remaining).toBe(3)
    expect(b.policyHeader("api")).toBe('"api";q=4;w=2')
  })
})

describe("sliding windows and the retry budget", () => {
  it("counts over the last window only", () => {
    const w = new SlidingWindow(1_000, 1)
    w.add(0, 0)
    w.add(500, 0)
    expect(w.sum(900, 0)).toBe(2)
    expect(w.sum(1_450, 0)).toBe(1)
    expect(w.sum(3_000, 0)).toBe(0)
  })

  it("retries stay under the budget share of requests (at least 3 in a window)", () => {
    const budget = new RetryBudget(10)
    for (let i = 0; i < 100; i++) budget.request(0)
    const allowed = Array.from({ length: 20 }, () => budget.tryRetry(0)).filter(Boolean).length
    expect(allowed).toBe(10)
    const quiet = new RetryBudget(10)
    expect(Array.from({ length: 5 }, () => quiet.tryRetry(0)).filter(Boolean).length).toBe(3)
    expect(new RetryBudget(0).tryRetry(0)).toBe(false)
  })
})

describe("the breaker", () => {
  it("the machine goes closed → open → halfOpen (after openMs) → closed after the probes pass", async () => {
    const actor = createActor(breakerMachine, { input: { openMs: 20, halfOpenRequests: 2 } }).start()
    actor.send({ type: "TRIP", reason: "too many failures" })
    expect(actor.getSnapshot().value).toBe("open")
    await new Promise<void>((resolve) => actor.subscribe((s) => s.value === "halfOpen" && resolve()))
    actor.send({ type: "PROBE_PASSED" })
    expect(actor.getSnapshot().value).toBe("halfOpen")
    actor.send({ type: "PROBE_FAILED", reason: "a probe failed" })
    expect(actor.getSnapshot()).toMatchObject({
      value: "open",
      context: { opened: 2, reason: "a probe failed" },
    })
    actor.send({ type: "RESET" })
    expect(actor.getSnapshot().value).toBe("closed")
    actor.stop()
  })

  it("opens on the failure rate only past the minimum volume, and on slow calls", () => {
    const settings = {
      ...defaultGatewaySpec.breaker,
      minRequests: 4,
      failurePercent: 50,
      slowCallMs: 100,
      slowCallPercent: 75,
    }
    const b = new CircuitBreaker(settings)
    b.record("call", 0, true, 1)
    b.record("call", 0, true, 1)
    expect(b.state).toBe("closed")
    b.record("call", 0, false, 1)
    b.record("call", 0, true, 1)
    expect(b.state).toBe("open")
    expect(b.allow()).toBeUndefined()
    b.stop()
    const slow = new CircuitBreaker(settings)
    for (let i = 0; i < 4; i++) slow.record("call", 0, false, 500)
    expect(slow.state).toBe("open")
    slow.stop()
  })
})

describe("header rules", () => {
  it("drop hop-by-hop headers (and those named in Connection), add X-Forwarded-*, strip Authorization", () => {
    const out = upstreamRequestHeaders(
      {
        host: "sam:7070",
        connection: "keep-alive, x-secret-hop",
        "x-secret-hop": "1",
        "keep-alive": "timeout=5",
        "transfer-encoding": "chunked",
        authorization: "Bearer t",
        "x-forwarded-for": "10.0.0.1",
        traceparent: "00-abc-def-01",
        accept: "text/plain",
      },
      { clientAddress: "127.0.0.1", proto: "http", requestId: "r1", forwardAuth: false },
    )
    expect(out).toEqual({
      traceparent: "00-abc-def-01",
      accept: "text/plain",
      "x-forwarded-for": "10.0.0.1, 127.0.0.1",
      "x-forwarded-proto": "http",
      "x-forwarded-host": "sam:7070",
      "x-request-id": "r1",
    })
    expect(clientResponseHeaders({ connection: "close", "content-type": "a/b" }, "r1", false)).toEqual({
      "content-type": "a/b",
      "x-request-id": "r1",
    })
    expect(cookieValue("a=1; session=xyz; b=2", "session")).toBe("xyz")
  })

  it("a Location on a plugin route's target is pointed back through the route only under the target's path", () => {
    const redirect = { instance: "http://127.0.0.1:9", mount: { client: "/api/x", upstream: "/base" } }
    const location = (value: string) =>
      clientResponseHeaders({ location: value }, "r1", false, redirect).location
    expect(location("http://127.0.0.1:9/base/y?q=1")).toBe("/api/x/y?q=1")
    expect(location("http://127.0.0.1:9/base")).toBe("/api/x")
    expect(location("http://127.0.0.1:9/basement")).toBe("http://127.0.0.1:9/basement")
    expect(location("http://127.0.0.1:9/other")).toBe("http://127.0.0.1:9/other")
    // The instance by another of its loopback names is still the instance; another port is not.
    expect(location("http://localhost:9/base/y")).toBe("/api/x/y")
    expect(location("http://[::1]:9/base/y")).toBe("/api/x/y")
    expect(location("http://localhost:10/base/y")).toBe("http://localhost:10/base/y")
    expect(location("https://localhost:9/base/y")).toBe("https://localhost:9/base/y")
  })
})

describe("cache rules (RFC 9111)", () => {
  it("store only explicitly fresh, shareable answers; never event streams, private, no-store or Set-Cookie", () => {
    const fresh = (headers: Record<string, string>, request: Record<string, string> = {}) =>
      freshnessMs(200, headers, request, Date.parse("2026-12-01T00:00:00Z"))
    expect(fresh({ "cache-control": "max-age=60" })).toBe(60_000)
    expect(fresh({ "cache-control": "max-age=60, s-maxage=5" })).toBe(5_000)
    expect(fresh({ date: "Tue, 01 Dec 2026 00:00:00 GMT", expires: "Tue, 01 Dec 2026 00:00:30 GMT" })).toBe(
      30_000,
    )
    expect(fresh({})).toBeUndefined()
    expect(fresh({ "cache-control": "private, max-age=60" })).toBeUndefined()
    expect(fresh({ "cache-control": "no-store" })).toBeUndefined()
    expect(fresh({ "cache-control": "max-age=60", "content-type": "text/event-stream" })).toBeUndefined()
    expect(fresh({ "cache-control": "max-age=60", "set-cookie": "a=1" })).toBeUndefined()
    expect(fresh({ "cache-control": "max-age=60", vary: "*" })).toBeUndefined()
    expect(fresh({ "cache-control": "max-age=60" }, { authorization: "Bearer x" })).toBeUndefined()
    expect(fresh({ "cache-control": "public, max-age=60" }, { authorization: "Bearer x" })).toBe(60_000)
    expect(requestMayUseCache("POST", {})).toBe(false)
    expect(requestMayUseCache("GET", { "cache-control": "no-cache" })).toBe(false)
  })

  it("honours Vary and evicts the least recently used past max_entries", () => {
    const cache = new ResponseCache(2, 1_000)
    const store = (key: string, vary?: string, lang = "en") =>
      cache.store(
        key,
        200,
        {},
        vary ? { vary } : {},
        { "accept-language": lang },
        Buffer.from(key),
        60_000,
        0,
      )
    store("/a", "accept-language", "en")
    expect(cache.lookup("/a", { "accept-language": "en" }, 1)).toBeDefined()
    expect(cache.lookup("/a", { "accept-language": "fr" }, 1)).toBeUndefined()
    store("/b")
    cache.lookup("/a", { "accept-language": "en" }, 2)
    store("/c")
    expect(cache.lookup("/b", {}, 3)).toBeUndefined()
    expect(cache.lookup("/c", {}, 3)).toBeDefined()
    expect(cache.lookup("/c", {}, 60_001)).toBeUndefined()
    // One body is at most an eighth of max_bytes.
    expect(cache.maxEntryBytes).toBe(125)
    cache.store("/big", 200, {}, {}, {}, Buffer.alloc(126), 60_000, 0)
    expect(cache.lookup("/big", {}, 1)).toBeUndefined()
  })

  it("keeps one variant per value of what Vary names, up to 8 a URL, the least recently stored going first", () => {
    const cache = new ResponseCache(100, 100_000)
    const store = (lang: string, vary = "accept-language") =>
      cache.store("/a", 200, {}, { vary }, { "accept-language": lang }, Buffer.from(lang), 60_000, 0)
    const hit = (lang: string) => cache.lookup("/a", { "accept-language": lang }, 1)?.body.toString()
    store("fr")
    store("de")
    // Alternating languages hit: each keeps its own copy (one variant per URL made them all miss).
    expect([hit("fr"), hit("de"), hit("fr"), hit("en")]).toEqual(["fr", "de", "fr", undefined])
    store("fr") // replaced, not a second copy
    expect(cache.size).toBe(2)
    for (const lang of ["a", "b", "c", "d", "e", "f", "g"]) store(lang)
    expect(cache.size).toBe(8)
    expect(hit("de")).toBeUndefined() // the least recently stored of the nine (fr was stored again)
    expect(hit("fr")).toBe("fr")
    expect(hit("g")).toBe("g")
    // A response that varies on something else now replaces every variant made under the old rule.
    store("fr", "accept-encoding")
    expect(cache.size).toBe(1)
    cache.invalidate("/a")
    expect(cache.size).toBe(0)
  })
})

describe("credentials", () => {
  const route = (auth?: "none" | "token") => ({
    id: "api",
    spec: { ...defaultGatewaySpec, ...(auth === undefined ? {} : { auth }) },
    endpoints: [],
    onDemand: false,
    instances: 1,
    state: "running",
    nextAttemptAt: undefined,
  })
  const table = buildRoutingTable([], [], 1)
  const options = (loopback: boolean) => ({
    unitTokens: { verify: () => undefined },
    authenticate: (header: string | undefined) =>
      header === "Bearer good"
        ? ({ ok: true, principal: { name: "ops" } } as const)
        : ({ ok: false } as const),
    loopback,
  })

  it("default to none on a loopback API and to token elsewhere", () => {
    expect(authorize(route(), {}, table, options(true))).toEqual({ ok: true, credential: undefined })
    expect(authorize(route(), {}, table, options(false))).toMatchObject({ ok: false, status: 401 })
    expect(authorize(route(), { authorization: "Bearer good" }, table, options(false))).toEqual({
      ok: true,
      credential: "api:ops",
    })
    expect(authorize(route("none"), {}, table, options(false))).toMatchObject({ ok: true })
  })
})

describe("the routing table", () => {
  it("parses /api/<id>/<rest> with the query kept", () => {
    expect(gatewayTarget("/api/notes/a/b?x=1")).toEqual({ id: "notes", rest: "/a/b?x=1" })
    expect(gatewayTarget("/api/notes")).toEqual({ id: "notes", rest: "/" })
    expect(gatewayTarget("/api/notes?x=1")).toEqual({ id: "notes", rest: "/?x=1" })
    expect(gatewayTarget("/api/")).toBeUndefined()
    expect(gatewayTarget("/other/notes")).toBeUndefined()
  })

  it("routes only to ready instances that are not draining", () => {
    const instance = (i: number, state: string, ready: boolean, draining = false) => ({
      instance: i,
      state,
      ready,
      draining,
      url: `http://127.0.0.1:${9000 + i}`,
      startedAt: 1,
    })
    const table = buildRoutingTable(
      [{ id: "api", kind: "service", instances: 3, dependsOn: [] } as never],
      [
        {
          id: "api",
          state: "running",
          instances: [
            instance(0, "running", true),
            instance(1, "running", false),
            instance(2, "running", true, true),
          ],
        } as never,
      ],
      1,
    )
    expect(table.services.get("api")?.endpoints.map((e) => e.instance)).toEqual([0])
  })
})
