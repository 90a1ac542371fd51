import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { PluginHost } from "../../src/plugins/index.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { eventLog, http, listen, serveApi, type TestServer } from "../support/plugins.ts"

const builtin = (name: string) => fileURLToPath(new URL(`../../plugins/${name}`, import.meta.url))

let cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

const hostWith = async (entries: ConstructorParameters<typeof PluginHost>[0]["entries"]) => {
  const sam = new Sam({ units: [] })
  const host = new PluginHost({ sam, entries: entries ?? [], pluginsDir: false, watch: false })
  const api = await serveApi(sam, host)
  cleanup.push(
    () => api.close(),
    () => host.stop(),
  )
  await host.start()
  return { sam, host, api }
}

describe("the text-stats plugin", () => {
  it("offers the capability text_statistics and the same analysis over the control API", async () => {
    const { sam, host, api } = await hostWith([{ path: builtin("text-stats"), config: { top_words: 2 } }])
    expect(host.get("text-stats")?.status).toBe("running")
    const text = "SAM supervises agents. Agents offer capabilities!\n\nSAM routes calls to agents."
    const result = await sam.invoke("text_statistics", { text })
    expect(result.agent).toBe("plugin:text-stats")
    expect(result.output).toMatchObject({
      words: 11,
      sentences: 3,
      paragraphs: 2,
      lines: 3,
      topWords: [
        { word: "agents", count: 3 },
        { word: "sam", count: 2 },
      ],
    })
    const res = await http(`${api.url}/api/plugins/text-stats/analyze`, {
      method: "POST",
      body: { text: "One two." },
    })
    expect(res).toMatchObject({ status: 200, body: { words: 2, sentences: 1 } })
    expect(
      await http(`${api.url}/api/plugins/text-stats/analyze`, { method: "POST", body: { nope: 1 } }),
    ).toEqual({
      status: 400,
      body: { error: 'send { "text": "..." } as JSON' },
    })
    await expect(sam.invoke("text_statistics", 42)).rejects.toMatchObject({ reason: "failed" })
  })
})

describe("the webhook-sink plugin", () => {
  it("POSTs matching events in batches and retries a failed delivery", async () => {
    const batches: Array<{ events: Array<{ type: string; n: number }> }> = []
    let requests = 0
    let onBatch = () => {}
    const delivered = new Promise<void>((resolve) => {
      onBatch = resolve
    })
    const receiver: TestServer = await listen((req, res) => {
      const chunks: Buffer[] = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        // The first delivery fails: the plugin must retry it.
        if (++requests === 1) return res.writeHead(503).end()
        batches.push(JSON.parse(Buffer.concat(chunks).toString("utf8")))
        res.writeHead(204).end()
        onBatch()
      })
    })
    cleanup.push(() => receiver.close())
    const { sam, api } = await hostWith([
      {
        path: builtin("webhook-sink"),
        config: {
          url: `${receiver.url}/hook`,
          events: ["demo.*"],
          batch_size: 3,
          retry_base_ms: 5,
          flush_interval_ms: 60_000,
        },
      },
    ])
    for (const n of [1, 2]) sam.bus.publish({ type: "demo.tick", n })
    sam.bus.publish({ type: "other.event", n: 99 })
    sam.bus.publish({ type: "demo.tick", n: 3 })
    await delivered
    expect(batches).toEqual([
      {
        source: "sam",
        events: [1, 2, 3].map((n) => expect.objectContaining({ type: "demo.tick", n })),
      },
    ])
    expect((await http(`${api.url}/api/plugins/webhook-sink/stats`)).body).toMatchObject({
      delivered: 3,
      retries: 1,
      failedBatches: 0,
      queued: 0,
    })
  })

  it("flushes what is still queued when it is unloaded", async () => {
    const received: number[] = []
    const receiver = await listen((req, res) => {
      const chunks: Buffer[] = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        received.push(
          ...JSON.parse(Buffer.concat(chunks).toString("utf8")).events.map((e: { n: number }) => e.n),
        )
        res.writeHead(204).end()
      })
    })
    cleanup.push(() => receiver.close())
    const { sam, host } = await hostWith([
      {
        path: builtin("webhook-sink"),
        config: { url: receiver.url, events: ["demo.tick"], flush_interval_ms: 60_000 },
      },
    ])
    const log = eventLog(sam.bus)
    sam.bus.publish({ type: "demo.tick", n: 7 })
    await host.unload("webhook-sink")
    expect(received).toEqual([7])
    expect(log.of("plugin.stopped")).toHaveLength(1)
    log.stop()
  })

  it("stays idle without a url and says so", async () => {
    const sam = new Sam({ units: [] })
    const log = eventLog(sam.bus)
    const host = new PluginHost({
      sam,
      entries: [{ path: builtin("webhook-sink") }],
      pluginsDir: false,
      watch: false,
    })
    cleanup.push(() => host.stop())
    await host.start()
    expect(host.get("webhook-sink")?.status).toBe("running")
    expect(log.of("plugin.log")).toMatchObject([{ plugin: "webhook-sink", level: "warn" }])
    log.stop()
  })
})
