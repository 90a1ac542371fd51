// Every endpoint of the control API over real HTTP, through the typed client the CLI uses
// (src/api/controlClient.ts; raw fetch only for what it cannot send: malformed requests, raw
// event streams). Problems are checked in their wire form (type URN, status, fields).
import { Validator } from "@seriousme/openapi-schema-validator"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { verifyAuditLog } from "../../src/audit/verifyAudit.ts"
import { agentUnit, removeScratch } from "../support/agents.ts"
import { httpCheck, nodeService } from "../support/runtime.ts"
import { type ApiHarness, failureOf, parseFrames, readEvents, startApi, withClient } from "./apiHarness.ts"

let h: ApiHarness
const as = (who: "admin" | "ops" | "watcher" | undefined) => h.token(who)

beforeAll(async () => {
  h = await startApi([
    nodeService("db", "http-service.mjs", { probes: [httpCheck()] }),
    nodeService("web", "http-service.mjs", { dependsOn: ["db"], probes: [httpCheck()] }),
    agentUnit("helper", { agent: { capabilities: ["echo", "stream", "slow"] } }),
    agentUnit("translator", { agent: { capabilities: ["echo", "whoami"] } }),
  ])
})

afterAll(async () => {
  expect(await h.close()).toEqual([])
  expect(h.errors).toEqual([])
  removeScratch()
})

describe("reading SAM's state", () => {
  it("GET /api/status counts units and reports resources and overall health", async () => {
    const status = await withClient(h.url, as("watcher"), (c) => c.system.status())
    expect(status.services).toEqual({ total: 2, running: 2, stopped: 0, error: 0, other: 0 })
    expect(status.agents.total).toBe(2)
    expect(status.health).toBe("healthy")
    expect(status.uptime).toBeGreaterThan(0)
    expect(status.resources.cpu.cores).toBeGreaterThan(0)
    expect(status.resources.memory.sam_rss_bytes).toBeGreaterThan(0)
    expect(status.resources.disk.path).toBe(h.dir)
    expect(Date.parse(status.timestamp)).not.toBeNaN()
  })

  it("GET /api/agents pages and filters by status and capability", async () => {
    const all = await withClient(h.url, as("watcher"), (c) => c.agents.list({ query: {} }))
    expect(all).toMatchObject({ total: 2, page: 1, pageSize: 50 })
    expect(all.agents.map((a) => a.id).sort()).toEqual(["helper", "translator"])
    expect(all.agents[0]).toMatchObject({ status: "running", ready: true, runtime: "sandbox" })
    expect(all.agents.find((a) => a.id === "helper")?.capabilities).toContain("stream")

    const second = await withClient(h.url, as("watcher"), (c) =>
      c.agents.list({ query: { page: 2, pageSize: 1 } }),
    )
    expect(second).toMatchObject({ total: 2, page: 2, pageSize: 1 })
    expect(second.agents).toHaveLength(1)
    const translating = await withClient(h.url, as("watcher"), (c) =>
      c.agents.list({ query: { capability: "whoami" } }),
    )
    expect(translating.agents.map((a) => a.id)).toEqual(["translator"])
    const stopped = await withClient(h.url, as("watcher"), (c) =>
      c.agents.list({ query: { status: "stopped" } }),
    )
    expect(stopped).toMatchObject({ total: 0, agents: [] })
  })

  it("GET /api/agents/:id/status has health, metrics and uptime; an unknown id is a 404 with a hint", async () => {
    const status = await withClient(h.url, as("watcher"), (c) =>
      c.agents.status({ params: { id: "helper" } }),
    )
    expect(status).toMatchObject({ id: "helper", status: "running", health: { ready: true } })
    expect(status.metrics.pid).toBeTypeOf("number")
    expect(status.metrics.in_flight).toBe(0)
    expect(status.uptime).toBeGreaterThan(0)
    const missing = await failureOf(h.url, as("watcher"), (c) => c.agents.status({ params: { id: "helpr" } }))
    expect(missing).toMatchObject({ type: "urn:sam:problem:not-found", status: 404, id: "helpr" })
    expect((missing as { detail: string }).detail).toContain('did you mean "helper"?')
  })

  it("GET /api/services lists services with the dependency graph", async () => {
    const list = await withClient(h.url, as("watcher"), (c) => c.services.list())
    expect(list.total).toBe(2)
    expect(list.services.map((s) => [s.id, s.status, s.ready, s.depends_on])).toEqual([
      ["db", "running", true, []],
      ["web", "running", true, ["db"]],
    ])
    expect(list.services[0]?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(list.dependencies).toMatchObject({ db: [], web: ["db"] })
  })

  it("GET /api/services/:id/health has the check history, endpoints and dependencies", async () => {
    const health = await withClient(h.url, as("watcher"), (c) => c.services.health({ params: { id: "web" } }))
    expect(health.health.status).toBe("healthy")
    expect(health.health.history.length).toBeGreaterThan(0)
    expect(health.health.last).toMatchObject({ probe: "http", ok: true, instance: 0 })
    expect(health.endpoints).toEqual([
      expect.objectContaining({
        instance: 0,
        status: "running",
        ready: true,
        url: expect.stringMatching(/^http/),
      }),
    ])
    expect(health.dependencies).toEqual([{ id: "db", status: "running", ready: true }])
    const missing = await failureOf(h.url, as("watcher"), (c) =>
      c.services.health({ params: { id: "helper" } }),
    )
    expect(missing).toMatchObject({ type: "urn:sam:problem:not-found", status: 404 })
  })

  it("GET /api/plugins answers an empty list when no plugin host serves it", async () => {
    expect(await withClient(h.url, as("watcher"), (c) => c.plugins.list())).toEqual({ plugins: [] })
  })
})

describe("lifecycle commands", () => {
  it("stops and starts a service; a command its state refuses is a 409 naming the state", async () => {
    const stopped = await withClient(h.url, as("ops"), (c) =>
      c.services.stop({ params: { id: "web" }, payload: { graceful: true, timeout: 2 } }),
    )
    expect(stopped).toMatchObject({ id: "web", status: "stopped", pid: null })
    const again = await failureOf(h.url, as("ops"), (c) =>
      c.services.stop({ params: { id: "web" }, payload: null }),
    )
    expect(again).toMatchObject({
      type: "urn:sam:problem:command-refused",
      status: 409,
      unit: "web",
      command: "stop",
      state: "stopped",
    })
    const started = await withClient(h.url, as("ops"), (c) =>
      c.services.start({ params: { id: "web" }, payload: null }),
    )
    expect(started).toMatchObject({ id: "web", status: "running" })
    const twice = await failureOf(h.url, as("ops"), (c) =>
      c.services.start({ params: { id: "web" }, payload: null }),
    )
    expect(twice).toMatchObject({ status: 409, state: "running" })
    expect((twice as { detail: string }).detail).toBe(
      'cannot start "web": it is running; restart it instead, or stop it first',
    )
  })

  it("restarts a service, and lifecycle commands on a wrong or unknown id are 404s", async () => {
    const before = await withClient(h.url, as("ops"), (c) => c.services.list())
    const restarted = await withClient(h.url, as("ops"), (c) =>
      c.services.restart({ params: { id: "db" }, payload: {} }),
    )
    expect(restarted.restarts).toBe((before.services[0]?.restarts ?? 0) + 1)
    expect(restarted.pid).not.toBe(before.services[0]?.pid)
    const agent = await failureOf(h.url, as("ops"), (c) =>
      c.agents.stop({ params: { id: "db" }, payload: null }),
    )
    expect(agent).toMatchObject({
      type: "urn:sam:problem:not-found",
      detail: '"db" is a service, not an agent; GET /api/agents lists them',
    })
    const unknown = await failureOf(h.url, as("ops"), (c) =>
      c.services.restart({ params: { id: "nope" }, payload: null }),
    )
    expect(unknown).toMatchObject({ type: "urn:sam:problem:not-found", status: 404 })
  })

  it("suspends, resumes, stops and starts an agent; force restarts a running one", async () => {
    const id = { params: { id: "translator" } }
    expect(
      await withClient(h.url, as("ops"), (c) => c.agents.suspend({ ...id, payload: null })),
    ).toMatchObject({
      status: "suspended",
    })
    expect(
      await withClient(h.url, as("ops"), (c) => c.agents.resume({ ...id, payload: null })),
    ).toMatchObject({
      status: "running",
    })
    const resumeAgain = await failureOf(h.url, as("ops"), (c) => c.agents.resume({ ...id, payload: null }))
    expect(resumeAgain).toMatchObject({
      type: "urn:sam:problem:command-refused",
      state: "running",
      command: "resume",
    })
    expect(
      await withClient(h.url, as("ops"), (c) => c.agents.stop({ ...id, payload: { graceful: false } })),
    ).toMatchObject({
      status: "stopped",
    })
    const started = await withClient(h.url, as("ops"), (c) => c.agents.start({ ...id, payload: {} }))
    expect(started.status).toBe("running")
    const forced = await withClient(h.url, as("ops"), (c) =>
      c.agents.start({ ...id, payload: { force: true } }),
    )
    expect(forced.restarts).toBe(started.restarts + 1)
    await withClient(h.url, as("ops"), (c) => c.agents.restart({ ...id, payload: null }))
    const override = await failureOf(h.url, as("ops"), (c) =>
      c.agents.start({ ...id, payload: { config: { model: "x" } } }),
    )
    expect(override).toMatchObject({ type: "urn:sam:problem:unprocessable", status: 422 })
  })
})

describe("capabilities", () => {
  it("invokes a capability and answers {output, agent, duration_ms}", async () => {
    const result = await withClient(h.url, as("ops"), (c) =>
      c.capabilities.invoke({ params: { name: "echo" }, payload: { input: { hello: "world" } } }),
    )
    expect(result.output).toEqual({ hello: "world" })
    expect(["helper", "translator"]).toContain(result.agent)
    expect(result.duration_ms).toBeGreaterThanOrEqual(0)
  })

  it("GET /api/capabilities lists every capability with its providers and their readiness", async () => {
    const { capabilities } = await withClient(h.url, as("watcher"), (c) => c.capabilities.list())
    expect(capabilities.map((c) => c.name)).toEqual(["echo", "slow", "stream", "whoami"])
    expect(capabilities.map((c) => c.description)).toEqual([
      "answers its input",
      null,
      null,
      "the agent instance and process that served the call",
    ])
    expect(capabilities[0]).toEqual({
      name: "echo",
      // Its definition's description, sent in the agent's ready message.
      description: "answers its input",
      available: true,
      providers: [
        { unit: "helper", instance: 0, state: "running", ready: true, in_flight: 0 },
        { unit: "translator", instance: 0, state: "running", ready: true, in_flight: 0 },
      ],
    })
  })

  it("a capability whose providers are all stopped is listed, and invoking it is a 503 naming them", async () => {
    await withClient(h.url, as("ops"), (c) => c.agents.stop({ params: { id: "translator" }, payload: null }))
    try {
      const { capabilities } = await withClient(h.url, as("watcher"), (c) => c.capabilities.list())
      expect(capabilities.find((c) => c.name === "whoami")).toEqual({
        name: "whoami",
        // What its provider said while it ran is kept.
        description: "the agent instance and process that served the call",
        available: false,
        providers: [{ unit: "translator", instance: 0, state: "stopped", ready: false, in_flight: 0 }],
      })
      const down = await failureOf(h.url, as("ops"), (c) =>
        c.capabilities.invoke({ params: { name: "whoami" }, payload: { input: null } }),
      )
      expect(down).toMatchObject({
        type: "urn:sam:problem:capability-unavailable",
        status: 503,
        reason: "unavailable",
        detail:
          'capability "whoami" is unavailable: its providers translator (stopped) are not running; ' +
          "start one with `sam start translator`",
      })
      // Streamed, the same answer before any event.
      const streamed = await h.fetch("/api/capabilities/whoami/invoke", {
        as: "ops",
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ input: null }),
      })
      expect(streamed.status).toBe(503)
      expect(await streamed.json()).toMatchObject({ reason: "unavailable", detail: down.detail })
    } finally {
      await withClient(h.url, as("ops"), (c) =>
        c.agents.start({ params: { id: "translator" }, payload: null }),
      )
    }
  })

  it("streams chunks as SSE when the client accepts text/event-stream", async () => {
    const response = await h.fetch("/api/capabilities/stream/invoke", {
      as: "ops",
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ input: { count: 3 } }),
    })
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toContain("text/event-stream")
    const frames = parseFrames(await response.text())
    expect(frames.map((f) => f.event)).toEqual(["chunk", "chunk", "chunk", "done"])
    expect(frames.slice(0, 3).map((f) => f.data)).toEqual([1, 2, 3])
    expect(frames[3]?.data).toMatchObject({ agent: "helper" })
  })

  it("answers problems for an unknown capability and a missed deadline", async () => {
    const unknown = await failureOf(h.url, as("ops"), (c) =>
      c.capabilities.invoke({ params: { name: "summarize" }, payload: { input: 1 } }),
    )
    expect(unknown).toMatchObject({
      type: "urn:sam:problem:capability-not-found",
      status: 404,
      reason: "not_found",
    })
    const late = await failureOf(h.url, as("ops"), (c) =>
      c.capabilities.invoke({ params: { name: "slow" }, payload: { input: null, timeout_seconds: 0.2 } }),
    )
    expect(late).toMatchObject({
      type: "urn:sam:problem:capability-timeout",
      status: 504,
      reason: "timeout",
      detail: expect.stringContaining(
        "give it longer if the agent needs it (the request's timeout_seconds, `sam invoke --timeout`)",
      ),
    })
  })
})

describe("authentication, authorization and validation", () => {
  it("no or a wrong token is a 401 problem with a WWW-Authenticate challenge", async () => {
    expect(await failureOf(h.url, undefined, (c) => c.system.status())).toMatchObject({
      type: "urn:sam:problem:unauthorized",
      status: 401,
    })
    expect(await failureOf(h.url, "not-a-token", (c) => c.services.list())).toMatchObject({
      type: "urn:sam:problem:unauthorized",
    })
    const raw = await h.fetch("/api/agents", { headers: { authorization: "Basic YWxhZGRpbjpvcGVu" } })
    expect(raw.status).toBe(401)
    expect(raw.headers.get("content-type")).toBe("application/problem+json")
    expect(raw.headers.get("www-authenticate")).toBe('Bearer realm="sam"')
    expect(await raw.json()).toMatchObject({
      type: "urn:sam:problem:unauthorized",
      title: "Unauthorized",
      status: 401,
    })
  })

  it("a role below the endpoint's is a 403 naming the role needed", async () => {
    const stop = await failureOf(h.url, as("watcher"), (c) =>
      c.services.stop({ params: { id: "db" }, payload: null }),
    )
    expect(stop).toMatchObject({
      type: "urn:sam:problem:forbidden",
      status: 403,
      role: "viewer",
      required_role: "operator",
    })
    const reload = await failureOf(h.url, as("ops"), (c) => c.plugins.reload())
    expect(reload).toMatchObject({
      type: "urn:sam:problem:forbidden",
      role: "operator",
      required_role: "admin",
    })
    const invoke = await failureOf(h.url, as("watcher"), (c) =>
      c.capabilities.invoke({ params: { name: "echo" }, payload: { input: 1 } }),
    )
    expect(invoke).toMatchObject({ type: "urn:sam:problem:forbidden", required_role: "operator" })
  })

  it("an admin may reload, which is 501 without a plugin host", async () => {
    const reload = await failureOf(h.url, as("admin"), (c) => c.plugins.reload())
    expect(reload).toMatchObject({ type: "urn:sam:problem:not-available", status: 501 })
  })

  it("a bad body or query is a 400 listing every problem", async () => {
    const body = await h.fetch("/api/services/db/stop", {
      as: "ops",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ graceful: "yes", timeout: -1, extra: true }),
    })
    expect(body.status).toBe(400)
    expect(body.headers.get("content-type")).toBe("application/problem+json")
    const problem = (await body.json()) as { errors: Array<{ path: unknown[] }>; detail: string }
    expect(problem.errors.map((e) => e.path.join("."))).toEqual(
      expect.arrayContaining(["payload.graceful", "payload.timeout", "payload.extra"]),
    )
    expect(problem.detail).toMatch(/^invalid payload: .* \(and 2 more, see errors\)/)

    const json = await h.fetch("/api/capabilities/echo/invoke", {
      as: "ops",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    })
    expect(await json.json()).toMatchObject({
      status: 400,
      errors: [{ path: ["payload"], message: "Expected a valid JSON body" }],
    })

    const query = await h.fetch("/api/agents?page=0&pageSize=x&status=sleeping&sort=id", { as: "watcher" })
    expect(query.status).toBe(400)
    const errors = ((await query.json()) as { errors: Array<{ path: unknown[]; message: string }> }).errors
    const issues = errors.map((e) => e.path[1])
    expect(new Set(issues)).toEqual(new Set(["page", "pageSize", "status", "sort"]))
    // One problem a parameter: "x" is no integer, and so not out of 1-500 besides.
    expect(errors.filter((e) => e.path[1] === "pageSize").map((e) => e.message)).toHaveLength(1)

    const media = await h.fetch("/api/services/db/stop", {
      as: "ops",
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "stop",
    })
    expect(media.status).toBe(415)
    expect(await media.json()).toMatchObject({
      status: 415,
      detail: expect.stringContaining("application/json"),
    })
  })

  it("an unknown route is a 404 problem pointing at the OpenAPI document", async () => {
    const response = await h.fetch("/api/servics", { as: "watcher" })
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({
      status: 404,
      // /api/<id> of no control API path is the gateway's: it knows both.
      detail:
        'no route GET /api/servics (did you mean /api/services?): no service "servics"; GET /api/openapi.json lists every endpoint',
    })
  })
})

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1 and describes every endpoint with bearer security", async () => {
    const response = await fetch(`${h.url}/api/openapi.json`)
    expect(response.status).toBe(200)
    const document = (await response.json()) as {
      openapi: string
      paths: Record<string, Record<string, { security?: unknown }>>
      components: { securitySchemes: Record<string, unknown> }
    }
    const validator = new Validator()
    const result = await validator.validate(document as never)
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(validator.version).toBe("3.1")
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        "/api/agents",
        "/api/agents/{id}",
        "/api/agents/{id}/status",
        ...["start", "stop", "restart", "suspend", "resume"].map((c) => `/api/agents/{id}/${c}`),
        "/api/services",
        "/api/services/{id}",
        "/api/services/{id}/health",
        ...["start", "stop", "restart", "suspend", "resume"].map((c) => `/api/services/{id}/${c}`),
        "/api/services/{id}/scale",
        "/api/status",
        "/api/events",
        "/api/session",
        "/api/shutdown",
        "/api/capabilities",
        "/api/capabilities/{name}/invoke",
        "/api/plugins",
        "/api/plugins/{name}/*",
        "/api/config/reload",
        "/api/services/{id}/logs",
        "/api/agents/{id}/logs",
        "/api/crashes",
        "/api/crashes/{id}",
        "/api/services/{id}/metrics",
        "/api/agents/{id}/metrics",
        "/api/alerts",
        "/metrics",
      ].sort(),
    )
    expect(document.paths["/metrics"]?.get?.security).toEqual([{ bearer: [] }])
    expect(document.paths["/api/services/{id}/stop"]?.post?.security).toEqual([{ bearer: [] }])
    expect(document.paths["/api/services/{id}/logs"]?.get?.security).toEqual([{ bearer: [] }])
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "Bearer" })
  })
})

describe("unit logs and crash reports", () => {
  it("a SAM without a state dir answers logs from memory; the endpoints need a token; crashes need a store", async () => {
    const deadline = Date.now() + 10_000
    let body: { id: string; lines: Array<{ line: string; stream: string }> } = { id: "", lines: [] }
    while (!body.lines.some((l) => /^listening on \d+$/.test(l.line))) {
      if (Date.now() > deadline) throw new Error(`db's first line never came: ${JSON.stringify(body)}`)
      const response = await h.fetch("/api/services/db/logs", { as: "watcher" })
      expect(response.status).toBe(200)
      body = (await response.json()) as typeof body
    }
    expect(body.id).toBe("db")
    expect(body.lines.every((l) => l.stream === "stdout")).toBe(true)
    expect((await h.fetch("/api/services/db/logs")).status).toBe(401)
    const crashes = await h.fetch("/api/crashes", { as: "watcher" })
    expect(crashes.status).toBe(501)
    expect(((await crashes.json()) as { detail: string }).detail).toContain("keeps no crash reports")
  })
})

describe("GET /api/events", () => {
  it("sends a snapshot first, then deltas, with heartbeat comments", async () => {
    const response = await h.fetch("/api/events", { as: "watcher" })
    expect(response.headers.get("content-type")).toContain("text/event-stream")
    let restarted = false
    const { frames, raw } = await readEvents(response, (frames, raw) => {
      if (frames.length > 0 && !restarted) {
        restarted = true
        void withClient(h.url, as("ops"), (c) => c.services.restart({ params: { id: "db" }, payload: null }))
      }
      return (
        raw.includes(": keep-alive") &&
        frames.some((f) => f.event === "transition" && f.data.to === "running.ready")
      )
    })
    expect(raw.startsWith("retry: 2000\n\n")).toBe(true)
    expect(frames[0]?.event).toBe("snapshot")
    const snapshot = frames[0]?.data as { services: Array<{ id: string }>; agents: Array<{ id: string }> }
    expect(snapshot.services.map((s) => s.id)).toEqual(["db", "web"])
    expect(snapshot.agents.map((a) => a.id).sort()).toEqual(["helper", "translator"])
    const transitions = frames
      .filter((f) => f.event === "transition" && f.data.unit === "db")
      .map((f) => f.data.to)
    expect(transitions).toEqual(expect.arrayContaining(["stopping", "starting", "running.ready"]))
    const ids = frames.map((f) => Number(f.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
  })

  it("reads as a stream of events through the typed client", async () => {
    const first = await withClient(h.url, as("watcher"), async (c) => {
      const events = await c.streams.system.events({})
      for await (const event of events) return event // leaving the loop cancels the stream
    })
    expect(first).toMatchObject({ event: "snapshot", data: { services: [{ id: "db" }, { id: "web" }] } })
    expect(Number(first?.id)).toBeGreaterThan(0)
  })

  it("resumes after Last-Event-ID without a snapshot, and snapshots again when the id is unknown", async () => {
    const first = await readEvents(
      await h.fetch("/api/events", { as: "watcher" }),
      (frames) => frames.length > 0,
    )
    const snapshotId = Number(first.frames[0]?.id)
    await withClient(h.url, as("ops"), (c) => c.services.restart({ params: { id: "web" }, payload: null }))
    const resumed = await readEvents(
      await h.fetch("/api/events", { as: "watcher", headers: { "last-event-id": String(snapshotId) } }),
      (frames) => frames.some((f) => f.data.unit === "web" && f.data.to === "running.ready"),
    )
    expect(resumed.frames[0]?.event).not.toBe("snapshot")
    expect(Number(resumed.frames[0]?.id)).toBeGreaterThan(snapshotId)
    expect(resumed.frames.map((f) => f.data.unit)).toContain("web")
    const unknown = await readEvents(
      await h.fetch("/api/events", { as: "watcher", headers: { "last-event-id": "999999999" } }),
      (frames) => frames.length > 0,
    )
    expect(unknown.frames[0]?.event).toBe("snapshot")
  })
})

describe("the audit log", () => {
  it("records who ran each lifecycle command, invocation and refused call, in an intact chain", async () => {
    await h.audit.settled()
    const { readFile } = await import("node:fs/promises")
    const entries = (await readFile(h.audit.file, "utf8"))
      .trim()
      .split("\n")
      .map(
        (l) => JSON.parse(l) as { actor: { name: string }; action: string; target: string; result: string },
      )
    const seen = entries.map((e) => `${e.actor.name} ${e.action} ${e.target} ${e.result}`)
    expect(seen).toEqual(
      expect.arrayContaining([
        "ops service.stop web ok",
        "ops service.stop web refused",
        "ops service.start web ok",
        "ops agent.suspend translator ok",
        "ops capability.invoke echo ok",
        "ops capability.invoke summarize failed",
        "watcher service.stop db denied",
        "ops config.reload /api/config/reload denied",
        "ops service.stop db invalid",
      ]),
    )
    expect(await verifyAuditLog(h.audit.file)).toMatchObject({ ok: true, entries: entries.length })
  })
})
