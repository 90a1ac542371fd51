// Hot reload latency: median time from a file write until the change is live, for a plugin
// edit (new capability answer served) and for config edits (a health check changed in place; a
// unit added and ready). Baselines measured in the same run: importing + setting up the plugin
// module by hand, and loadConfig() by hand. With --expose-gc it also measures the memory each
// plugin reload keeps (the ESM module-cache cost documented in docs/PLUGINS.md).
// Run: node --expose-gc bench/reload.bench.ts [rounds]   (results: docs/BENCHMARKS.md, "Hot reload")
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { loadConfig } from "../src/config/load.ts"
import { PluginHost } from "../src/plugins/index.ts"
import { configReloaderFor } from "../src/runtime/configReload.ts"
import type { SamEvent } from "../src/runtime/eventBus.ts"
import { unitSpecsFromConfig } from "../src/runtime/fromConfig.ts"
import { Sam } from "../src/runtime/sam.ts"
import { median, ms } from "./support.ts"

const rounds = Number(process.argv[2] ?? 20)
const service = fileURLToPath(new URL("../test/fixtures/http-service.mjs", import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), "sam-bench-reload-"))
const gc = (globalThis as { gc?: () => void }).gc
/** The watchers' default quiet time, part of every write → live figure. */
const debounceMs = 50

let saves = 0
/** An editor's save: write a temp file, rename it over the target. */
const save = (file: string, content: string) => {
  const temp = `${file}.${++saves}.tmp`
  writeFileSync(temp, content)
  renameSync(temp, file)
}

const next = (sam: Sam, predicate: (e: SamEvent) => boolean) =>
  new Promise<SamEvent>((resolve) => {
    const off = sam.bus.subscribe((e) => {
      if (predicate(e)) {
        off()
        resolve(e)
      }
    })
  })

// A plugin of realistic size: a capability, a route, a listener and a timer.
const pluginSource = (n: number) => `export default {
  name: "bench",
  version: "${n}.0.0",
  setup(ctx) {
    const table = Array.from({ length: 1000 }, (_, i) => "row " + i + " of version ${n}")
    ctx.capabilities.register("answer", () => ${n})
    ctx.api.get("/rows", () => table.length)
    ctx.events.subscribe(() => {})
    ctx.timers.setInterval(() => {}, 60_000)
  },
}
`

const pluginRounds = async () => {
  const dir = join(scratch, "plugin")
  mkdirSync(dir, { recursive: true })
  const file = join(dir, "bench.mjs")
  save(file, pluginSource(0))

  // Baseline: import a fresh copy of the module and run its setup against a stub context.
  const raw: number[] = []
  for (let i = 0; i < rounds; i++) {
    const began = performance.now()
    const mod = await import(`${pathToFileURL(file).href}?baseline=${i}`)
    const noop = () => () => {}
    mod.default.setup({
      capabilities: { register: noop },
      api: { get: noop },
      events: { subscribe: noop },
      timers: { setInterval: noop },
    })
    raw.push(performance.now() - began)
  }

  const sam = new Sam({ units: [] })
  const host = new PluginHost({
    sam,
    baseDir: dir,
    pluginsDir: false,
    entries: [{ path: "./bench.mjs" }],
    maxReloads: 100_000,
  })
  await host.start()
  const live: number[] = []
  for (let n = 1; n <= rounds; n++) {
    const reloaded = next(sam, (e) => e.type === "plugin.reloaded" || e.type === "plugin.reload-failed")
    const began = performance.now()
    save(file, pluginSource(n))
    await reloaded
    const answer = (await sam.invoke("answer", null)).output
    live.push(performance.now() - began)
    if (answer !== n) throw new Error(`expected version ${n} live, got ${String(answer)}`)
  }

  let retainedPerReload: number | undefined
  if (gc) {
    const extra = 200
    gc()
    const before = process.memoryUsage().heapUsed
    for (let n = rounds + 1; n <= rounds + extra; n++) {
      const reloaded = next(sam, (e) => e.type === "plugin.reloaded")
      save(file, pluginSource(n))
      await reloaded
    }
    // Let the replaced versions' finalizers run, then collect.
    await new Promise((r) => setTimeout(r, 50))
    gc()
    retainedPerReload = (process.memoryUsage().heapUsed - before) / extra
  }
  await host.stop()
  await sam.stop()
  return { raw: median(raw), live: median(live), retainedPerReload }
}

const serviceConfig = (services: Record<string, { interval: number }>) =>
  JSON.stringify({
    services: Object.fromEntries(
      Object.entries(services).map(([id, s]) => [
        id,
        {
          deployment: { mode: "process", command: process.execPath, args: [service] },
          health_check: {
            endpoint: "/health",
            interval_seconds: s.interval,
            timeout_seconds: 2,
            kind: "readiness",
          },
          stop: { grace_seconds: 2 },
        },
      ]),
    ),
  })

const configRounds = async () => {
  const dir = join(scratch, "config")
  mkdirSync(dir, { recursive: true })
  const file = join(dir, "sam.json")
  const base = { a: { interval: 1 }, b: { interval: 1 }, c: { interval: 1 } }
  save(file, serviceConfig(base))

  const raw: number[] = []
  for (let i = 0; i < rounds; i++) {
    const began = performance.now()
    await loadConfig({ configPath: file })
    raw.push(performance.now() - began)
  }

  const loaded = await loadConfig({ configPath: file })
  const { units, groups } = unitSpecsFromConfig(loaded.config, loaded.baseDir)
  const sam = new Sam({ units, groups })
  await sam.start()
  const reloader = configReloaderFor(sam, loaded)
  reloader.watch()

  const inPlace: number[] = []
  for (let i = 0; i < rounds; i++) {
    const applied = next(sam, (e) => e.type === "config.reloaded")
    const began = performance.now()
    save(file, serviceConfig({ ...base, a: { interval: 2 + i } }))
    const event = (await applied) as unknown as { reconfigured: string[] }
    inPlace.push(performance.now() - began)
    if (event.reconfigured[0] !== "a")
      throw new Error(`expected a reconfigured, got ${JSON.stringify(event)}`)
  }

  const added: number[] = []
  for (let i = 0; i < Math.min(rounds, 10); i++) {
    const id = `extra${i}`
    const began = performance.now()
    const applied = next(sam, (e) => e.type === "config.reloaded")
    save(file, serviceConfig({ ...base, [id]: { interval: 1 } }))
    await applied
    await sam.until(id, (s) => s.state === "running" && s.ready)
    added.push(performance.now() - began)
    const removed = next(sam, (e) => e.type === "config.reloaded")
    save(file, serviceConfig(base))
    await removed
  }
  reloader.stop()
  await sam.stop()
  return { raw: median(raw), inPlace: median(inPlace), added: median(added) }
}

const main = async () => {
  try {
    const plugin = await pluginRounds()
    const config = await configRounds()
    console.log(
      `hot reload, median of ${rounds} rounds (write → live includes the ${debounceMs} ms debounce)`,
    )
    const own = (n: number) => ms(n - debounceMs)
    console.log(
      `plugin edit → new version live:        ${ms(plugin.live)}  (SAM's own ${own(plugin.live)}; import + setup by hand ${ms(plugin.raw)})`,
    )
    console.log(
      `config edit → health check changed:    ${ms(config.inPlace)}  (SAM's own ${own(config.inPlace)}; loadConfig by hand ${ms(config.raw)})`,
    )
    console.log(`config edit → added unit ready:        ${ms(config.added)}  (includes spawning the process)`)
    if (plugin.retainedPerReload !== undefined)
      console.log(
        `heap kept per plugin reload (ESM):     ${(plugin.retainedPerReload / 1024).toFixed(1)} KiB`,
      )
    else console.log("heap kept per plugin reload: run with --expose-gc to measure")
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

await main()
