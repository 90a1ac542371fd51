import { describe, expect, it } from "vitest"
import { GatewayRegistry, PluginHost } from "../../src/plugins/index.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { eventLog, tempProject } from "../support/plugins.ts"

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
  it("an onResponse hook, which the gateway does not run yet, is a warning in the plugin's log", async () => {
    const project = tempProject()
    project.write(
      "stamp.mjs",
      `export default {
  name: "stamp",
  version: "1.0.0",
  setup(ctx) {
    ctx.gateway.middleware({ onRequest: () => undefined, onResponse: (_req, res) => res })
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
      expect(log.of("plugin.log")).toMatchObject([
        {
          plugin: "stamp",
          level: "warn",
          message:
            "gateway.middleware: onResponse hooks are not run yet (the gateway streams answers through unchanged); this hook has no effect (docs/PLUGINS.md)",
        },
      ])
    } finally {
      await host.stop()
      log.stop()
      project.remove()
    }
  })
})
