import { describe, expect, it } from "vitest"
import { GatewayRegistry, PluginHost } from "../../src/plugins/index.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { eventLog, tempProject } from "../support/plugins.ts"
import { nodeService } from "../support/runtime.ts"

describe("the gateway registry", () => {
  it("routes by the longest prefix on segment boundaries", () => {
    const gateway = new GatewayRegistry()
    gateway.addRoute("docs", { prefix: "/docs", target: "http://127.0.0.1:1" })
    gateway.addRoute("api", { prefix: "/docs/api/", target: "http://127.0.0.1:2" })
    expect(gateway.match("/docs/intro?x=1")?.owner).toBe("docs")
    expect(gateway.match("/docs/api/v1")?.owner).toBe("api")
    expect(gateway.match("/docsx")).toBeUndefined()
  })

  it("a prefix belongs to one plugin; a new version of that plugin replaces its own route", () => {
    const gateway = new GatewayRegistry()
    const removeOld = gateway.addRoute("docs", { prefix: "/docs", target: "http://old" })
    expect(() => gateway.addRoute("other", { prefix: "/docs/", target: "http://x" })).toThrow(
      'gateway route "/docs" is already registered by docs; choose another prefix',
    )
    gateway.addRoute("docs", { prefix: "/docs", target: "http://new" })
    removeOld()
    expect(gateway.match("/docs")?.target).toBe("http://new")
  })

  it("runs onRequest hooks by priority then load order, and the first response answers", async () => {
    const gateway = new GatewayRegistry()
    const seen: string[] = []
    gateway.addMiddleware("log", { onRequest: () => void seen.push("log") })
    gateway.addMiddleware("auth", {
      priority: -10,
      onRequest: (req) => {
        seen.push("auth")
        return req.headers.authorization ? undefined : { status: 401, body: "token required" }
      },
    })
    expect(await gateway.runOnRequest({ method: "GET", url: "/x", headers: {} })).toEqual({
      status: 401,
      body: "token required",
    })
    expect(
      await gateway.runOnRequest({ method: "GET", url: "/x", headers: { authorization: "Bearer t" } }),
    ).toBe(undefined)
    expect(seen).toEqual(["auth", "auth", "log"])
    gateway.addMiddleware("stamp", { onResponse: (_req, res) => ({ ...res, headers: { "x-sam": "1" } }) })
    expect(await gateway.runOnResponse({ method: "GET", url: "/", headers: {} }, { status: 200 })).toEqual({
      status: 200,
      headers: { "x-sam": "1" },
    })
  })
})

describe("a plugin's gateway middleware", () => {
  it("runs through the host: a hook that throws keeps the answer as it was and stops its plugin, as any hook does", async () => {
    const project = tempProject()
    project.write(
      "stamp.mjs",
      `export default {
  name: "stamp",
  version: "1.0.0",
  setup(ctx) {
    ctx.gateway.middleware({
      priority: 1,
      onResponse: (_req, res) => ({ ...res, headers: { ...res.headers, "x-stamp": "1" } }),
    })
    ctx.gateway.middleware({
      onResponse: () => {
        throw new Error("broken on purpose")
      },
    })
  },
}
`,
    )
    const sam = new Sam({ units: [] })
    const log = eventLog(sam.bus)
    const host = new PluginHost({
      sam,
      baseDir: project.dir,
      pluginsDir: false,
      entries: [{ path: "./stamp.mjs" }],
    })
    try {
      await host.start()
      expect(host.get("stamp")?.status).toBe("running")
      const answer = await host.gateway.runOnResponse(
        { method: "GET", url: "/api/x", headers: {} },
        { status: 200, headers: { "content-type": "text/plain" }, body: "ok" },
      )
      // The chain went on past the hook that threw (it changed nothing).
      expect(answer).toEqual({
        status: 200,
        headers: { "content-type": "text/plain", "x-stamp": "1" },
        body: "ok",
      })
      expect(log.of("plugin.failed")).toMatchObject([
        { plugin: "stamp", code: "PLUGIN_HOOK_FAILED", error: expect.stringContaining("broken on purpose") },
      ])
      // Stopped, its hooks are gone: answers pass unchanged.
      expect(host.gateway.hasHooks("onResponse")).toBe(false)
      expect(log.of("plugin.log")).toEqual([])
    } finally {
      await host.stop()
      log.stop()
      project.remove()
    }
  })

  it("a route to a unit SAM does not run is kept, and said at once (with a did-you-mean)", async () => {
    const project = tempProject()
    project.write(
      "alias.mjs",
      `export default {
  name: "alias",
  version: "1.0.0",
  setup(ctx) {
    ctx.gateway.route({ prefix: "/typo", target: "unit:notse" })
    ctx.gateway.route({ prefix: "/fine", target: "unit:notes" })
  },
}
`,
    )
    const notes = { ...nodeService("notes", "http-service.mjs") }
    const sam = new Sam({ units: [notes] })
    const log = eventLog(sam.bus)
    const host = new PluginHost({
      sam,
      baseDir: project.dir,
      pluginsDir: false,
      entries: [{ path: "./alias.mjs" }],
    })
    try {
      await host.start()
      expect(host.get("alias")?.status).toBe("running")
      expect(host.gateway.match("/typo")?.target).toBe("unit:notse")
      expect(log.of("plugin.warning")).toMatchObject([
        {
          plugin: "alias",
          warning:
            'gateway route /typo targets "notse", which is no service (did you mean "notes"?): its requests are answered 502 until one is configured',
        },
      ])
    } finally {
      await host.stop()
      log.stop()
      project.remove()
    }
  })
})
