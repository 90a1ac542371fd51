// A plugin's control-API routes go through the same router and middleware as the rest of the
// API: one authorization (viewer reads, admin writes), one audit log, one body limit, SAM's errors
// as problems, 405 with Allow; a hot reload swaps the routes without restarting the server.
import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { PluginHost } from "../../src/plugins/index.ts"
import { type TempProject, tempProject } from "../support/plugins.ts"
import { type ApiHarness, startApi } from "./apiHarness.ts"

const replyModule = fileURLToPath(new URL("../../src/plugins/reply.ts", import.meta.url))

const kit = (version: number) => `import { reply } from ${JSON.stringify(replyModule)}
export default {
  name: "kit",
  version: "${version}.0.0",
  setup(ctx) {
    ctx.api.get("/version", () => ({ version: ${version} }))
    ctx.api.get("/items/:id", ({ params, query }) => ({ id: params.id, q: query.get("q") }))
    ctx.api.post("/items", ({ body }) => reply(201, { created: body }, { location: "/items/1" }))
    ctx.api.route("DELETE", "/items/:id", () => undefined)
    ctx.api.post("/echo", ({ body }) => ({ body }))
    ctx.api.get("/refuse", () => reply(409, { error: "the kit is busy" }))
    ctx.api.get("/boom", () => { throw new Error("database gone") })
    ctx.api.get("/stream", ({ res }) => {
      res.writeHead(200, { "content-type": "text/plain" })
      res.write("one ")
      setTimeout(() => res.end("two"), 5)
    })
    ${version > 1 ? 'ctx.api.get("/new", () => "only in v2")' : ""}
  },
}
`

const broken = `export default {
  name: "broken",
  version: "1.0.0",
  setup() { throw new Error("no database url") },
}
`

const open: Array<{ h: ApiHarness; project: TempProject }> = []

const start = async (options: { maxBodyBytes?: number } = {}) => {
  const project = tempProject()
  project.write("plugins/kit.mjs", kit(1))
  project.write("plugins/broken.mjs", broken)
  let host: PluginHost | undefined
  const h = await startApi([], {
    ...options,
    plugins: async (sam) => {
      host = new PluginHost({ sam, baseDir: project.dir, watch: false })
      host.reloadConfig = async () => ({ ok: true, changed: false })
      await host.start()
      return host
    },
  })
  open.push({ h, project })
  return { h, project, host: host as PluginHost }
}

afterEach(async () => {
  for (const { h, project } of open.splice(0)) {
    expect(await h.close()).toEqual([])
    expect(h.errors).toEqual([])
    project.remove()
  }
})

const json = async (response: Response) => ({
  status: response.status,
  type: response.headers.get("content-type"),
  body: await response.json(),
})

describe("a plugin's routes through the control API", () => {
  it("answer what the handler returns: JSON, reply() with status and headers, 204, a stream on res", async () => {
    const { h } = await start()
    expect(await json(await h.fetch("/api/plugins/kit/items/a%20b?q=x", { as: "watcher" }))).toEqual({
      status: 200,
      type: "application/json",
      body: { id: "a b", q: "x" },
    })
    const created = await h.fetch("/api/plugins/kit/items", {
      as: "admin",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "bolt" }),
    })
    expect(created.status).toBe(201)
    expect(created.headers.get("location")).toBe("/items/1")
    expect(await created.json()).toEqual({ created: { name: "bolt" } })
    expect((await h.fetch("/api/plugins/kit/items/7", { as: "admin", method: "DELETE" })).status).toBe(204)
    const text = await h.fetch("/api/plugins/kit/echo", {
      as: "admin",
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "plain words",
    })
    expect(await text.json()).toEqual({ body: "plain words" })
    const stream = await h.fetch("/api/plugins/kit/stream", { as: "watcher" })
    expect(stream.headers.get("content-type")).toBe("text/plain")
    expect(await stream.text()).toBe("one two")
    // A plugin's own error answer is its contract: sent as it is, not rewritten.
    expect(await json(await h.fetch("/api/plugins/kit/refuse", { as: "watcher" }))).toEqual({
      status: 409,
      type: "application/json",
      body: { error: "the kit is busy" },
    })
    // GET /api/plugins/<name> is the plugin's status.
    expect(await json(await h.fetch("/api/plugins/kit", { as: "watcher" }))).toMatchObject({
      status: 200,
      body: { name: "kit", status: "running", version: "1.0.0" },
    })
  })

  it("a JSON body is JSON whatever the case of its Content-Type and its parameters, for a plugin's route and SAM's own", async () => {
    const { h } = await start()
    const echo = async (type: string, body: string) =>
      (
        await (
          await h.fetch("/api/plugins/kit/echo", {
            as: "admin",
            method: "POST",
            headers: { "content-type": type },
            body,
          })
        ).json()
      ).body
    for (const type of [
      "Application/JSON; charset=utf-8",
      "application/json;charset=UTF-8",
      " APPLICATION/VND.KIT+JSON ",
    ])
      expect(await echo(type, '{"a":1}'), type).toEqual({ a: 1 })
    // Lines of JSON are not one JSON value: the handler gets the text.
    expect(await echo("application/x-ndjson", '{"a":1}\n{"a":2}')).toBe('{"a":1}\n{"a":2}')
    // SAM's own endpoints: the body is decoded (no such capability), not refused as another type (415).
    const invoke = await h.fetch("/api/capabilities/nothing/invoke", {
      as: "ops",
      method: "POST",
      headers: { "content-type": "Application/JSON; charset=utf-8" },
      body: JSON.stringify({ input: 1 }),
    })
    expect(invoke.status).toBe(404)
    expect((await invoke.json()).type).toBe("urn:sam:problem:capability-not-found")
  })

  it("SAM's own errors there are problems: unknown plugin or route, plugin not running, handler throws, bad JSON", async () => {
    const { h } = await start()
    const cases: Array<[string, RequestInit & { as?: "admin" | "watcher" }, number, string]> = [
      ["/api/plugins/kitt/version", { as: "watcher" }, 404, 'no plugin "kitt" (did you mean "kit"?)'],
      [
        "/api/plugins/kit/nope",
        { as: "watcher" },
        404,
        'plugin "kit" has no route GET /nope; it serves GET /version',
      ],
      [
        "/api/plugins/broken/anything",
        { as: "watcher" },
        503,
        'plugin "broken" is failed: plugin "broken" 1.0.0',
      ],
      [
        "/api/plugins/kit/boom",
        { as: "watcher" },
        500,
        'plugin "kit" failed to handle GET /boom: database gone',
      ],
      [
        "/api/plugins/kit/echo",
        { as: "admin", method: "POST", headers: { "content-type": "application/json" }, body: "{nope" },
        400,
        "invalid payload: the body is not valid JSON",
      ],
    ]
    for (const [path, init, status, detail] of cases) {
      const answer = await json(await h.fetch(path, init))
      expect(answer.status, path).toBe(status)
      expect(answer.type, path).toBe("application/problem+json")
      expect(answer.body.detail, path).toContain(detail)
    }
    expect((await json(await h.fetch("/api/plugins/broken/x", { as: "watcher" }))).body).toMatchObject({
      type: "urn:sam:problem:plugin-unavailable",
      plugin: "broken",
      state: "failed",
    })
    // A failing handler is the plugin's failure, not SAM's: nothing is reported as SAM's bug.
    expect(h.errors).toEqual([])
  })

  it("a wrong method is 405 with Allow, on a plugin's routes and on its status", async () => {
    const { h } = await start()
    const wrong = await h.fetch("/api/plugins/kit/version", { as: "admin", method: "DELETE" })
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get("allow")).toBe("GET, HEAD")
    expect(await wrong.json()).toMatchObject({
      status: 405,
      detail: 'DELETE is not allowed on /api/plugins/kit/version; plugin "kit" serves GET, HEAD there',
    })
    const items = await h.fetch("/api/plugins/kit/items/3", { as: "admin", method: "PUT" })
    expect(items.headers.get("allow")).toBe("DELETE, GET, HEAD")
    const status = await h.fetch("/api/plugins/kit", { as: "admin", method: "POST" })
    expect(status.status).toBe(405)
    expect(status.headers.get("allow")).toBe("GET, HEAD")
  })

  it("are authorized like every endpoint (viewer reads, admin writes), and audited", async () => {
    const { h } = await start()
    const anonymous = await h.fetch("/api/plugins/kit/version")
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get("www-authenticate")).toBe('Bearer realm="sam"')
    expect(anonymous.headers.get("content-type")).toBe("application/problem+json")
    expect((await h.fetch("/api/plugins/kit/version", { as: "watcher" })).status).toBe(200)
    const forbidden = await h.fetch("/api/plugins/kit/items", { as: "ops", method: "POST" })
    expect(forbidden.status).toBe(403)
    expect(await forbidden.json()).toMatchObject({
      detail:
        'token "ops" has role operator; POST /api/plugins/kit/items needs admin: use a token with that role',
      required_role: "admin",
    })
    expect((await h.fetch("/api/plugins/kit/items/9", { as: "admin", method: "DELETE" })).status).toBe(204)
    expect((await h.fetch("/api/config/reload", { as: "admin", method: "POST" })).status).toBe(200)
    await h.audit.settled()
    const log = await readFile(h.audit.file, "utf8")
    expect(log).toContain(
      '"action":"POST /api/plugins/kit/items","target":"/api/plugins/kit/items","result":"denied"',
    )
    expect(log).toContain(
      '"actor":{"name":"admin","role":"admin","via":"api"},"action":"DELETE /api/plugins/kit/items/9","target":"/api/plugins/kit/items/9","result":"ok","detail":"answered 204"',
    )
    expect(log).toContain('"action":"config.reload","target":"/api/config/reload","result":"ok"')
    // Reads are not audited.
    expect(log).not.toContain("/api/plugins/kit/version")
  })

  it("the API's one body limit applies: a body over it is a 413 before the handler sees it", async () => {
    const { h } = await start({ maxBodyBytes: 256 })
    const big = await h.fetch("/api/plugins/kit/echo", {
      as: "admin",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "x".repeat(1024) }),
    })
    expect(big.status).toBe(413)
    expect(await big.json()).toMatchObject({ status: 413, detail: expect.stringContaining("256 bytes") })
  })

  it("a hot reload swaps the routes of the running server: the new route answers, the old version is gone", async () => {
    const { h, project, host } = await start()
    expect((await h.fetch("/api/plugins/kit/new", { as: "watcher" })).status).toBe(404)
    project.write("plugins/kit.mjs", kit(2))
    expect(await host.reload("kit")).toMatchObject({ ok: true, version: "2.0.0" })
    expect(await (await h.fetch("/api/plugins/kit/new", { as: "watcher" })).json()).toBe("only in v2")
    expect(await (await h.fetch("/api/plugins/kit/version", { as: "watcher" })).json()).toEqual({
      version: 2,
    })
    await host.unload("kit")
    const gone = await json(await h.fetch("/api/plugins/kit/version", { as: "watcher" }))
    expect(gone).toMatchObject({ status: 503, body: { detail: 'plugin "kit" is stopped' } })
  })
})
