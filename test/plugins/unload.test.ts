// Its own file so the handle baseline is not disturbed by other tests' sockets still closing.
import { describe, expect, it } from "vitest"
import { PluginHost } from "../../src/plugins/index.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { activeResources, eventLog, leakedResources, listen, tempProject } from "../support/plugins.ts"

describe("unloading", () => {
  it("stopping the plugin host leaves no timer, socket, server or watcher behind", async () => {
    const project = tempProject()
    const received: string[] = []
    const sink = await listen((req, res) => {
      req.resume()
      req.on("end", () => {
        received.push(req.url ?? "")
        res.writeHead(204).end()
      })
    })
    const sam = new Sam({ units: [] })
    const log = eventLog(sam.bus)
    project.write(
      "busy.mjs",
      `import { createServer } from "node:net"
export default {
  name: "busy",
  version: "1.0.0",
  async setup(ctx) {
    ctx.timers.setInterval(() => {}, 20)
    ctx.timers.setTimeout(() => {}, 60_000)
    ctx.capabilities.register("busy_work", () => "done")
    ctx.healthChecks.register("busy", async () => ({ ok: true, detail: "busy" }))
    ctx.events.subscribe((event) => {
      if (event.type === "demo.send") ctx.fetch("${sink.url}/event", { method: "POST", body: "x" }).catch(() => {})
    })
    const server = createServer()
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
    ctx.onCleanup(() => new Promise((resolve) => server.close(resolve)))
  },
}
`,
    )
    const baseline = activeResources()
    const listenersBefore = sam.bus.listenerCount
    const host = new PluginHost({
      sam,
      baseDir: project.dir,
      pluginsDir: false,
      entries: [{ path: "./busy.mjs" }],
    })
    try {
      await host.start()
      expect(host.get("busy")?.status).toBe("running")
      sam.bus.publish({ type: "demo.send" })
      await new Promise<void>((resolve) =>
        sink.server.once("request", (_req, res) => res.on("finish", resolve)),
      )

      // The plugin really holds handles of each kind while it runs.
      const loaded = leakedResources(baseline, activeResources())
      expect(loaded).toMatchObject({
        Timeout: expect.any(Number),
        TCPServerWrap: 1,
        TCPSocketWrap: expect.any(Number),
        FSEventWrap: 1,
      })

      await host.stop()
      await sink.idle()
      expect(leakedResources(baseline, activeResources())).toEqual({})
      expect(sam.bus.listenerCount).toBe(listenersBefore)
      expect(sam.capabilities.has("busy_work")).toBe(false)
      expect(sam.probes.get("busy")).toBeUndefined()
      expect(host.get("busy")?.status).toBe("stopped")
      expect(log.of("plugin.stopped")).toHaveLength(1)
      expect(received).toEqual(["/event"])
    } finally {
      await host.stop()
      await sink.close()
      log.stop()
      project.remove()
    }
  })
})
