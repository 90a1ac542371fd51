// A unit's `watch`: SAM restarts it when its files change, with real processes, real files in a
// temp project and real fs events. SAM is built from a config file as `sam start` builds it
// (createSam: loadConfig, the store in <project>/.sam, the reloader).
import { mkdirSync, writeFileSync } from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import { type ConfiguredSam, createSam } from "../../src/app/createSam.ts"
import type { SamEvent } from "../../src/runtime/eventBus.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { closePhase } from "../support/handles.ts"
import {
  activeResources,
  type EventLog,
  eventLog,
  type TempProject,
  tempProject,
} from "../support/plugins.ts"
import { nodeService, survivors } from "../support/runtime.ts"

/** A service that stays up until it is stopped; `version` is what an edit changes. */
const server = (version: number) => `console.log("server v${version} up, pid " + process.pid)
setInterval(() => {}, 1 << 30)
`
const brokenServer = "const = ; // half-written code: a SyntaxError at every start\n"

const service = (watch: unknown, extra: Record<string, unknown> = {}) => ({
  deployment: { mode: "process", command: process.execPath, args: ["server.mjs"] },
  watch,
  restart_policy: { backoff_seconds: 0.05 },
  stop: { grace_seconds: 2 },
  ...extra,
})

interface World {
  project: TempProject
  sam: ConfiguredSam
  log: EventLog
  pids: Set<number>
}

let world: World | undefined

const writeConfig = (project: TempProject, config: Record<string, unknown>) =>
  project.write("sam.json", JSON.stringify(config, null, 2))

/** A project with `files`, SAM built on its sam.json; started unless `start: false`. */
const boot = async (
  config: Record<string, unknown>,
  files: Record<string, string>,
  options: { start?: boolean } = {},
): Promise<World> => {
  const project = tempProject()
  for (const [file, content] of Object.entries(files)) project.write(file, content)
  writeConfig(project, config)
  const sam = await createSam(project.path("sam.json"), { logFile: false, plugins: false, auditLog: false })
  const log = eventLog(sam.bus)
  world = { project, sam, log, pids: new Set() }
  if (options.start !== false) expect((await sam.start()).notReady).toEqual([])
  return world
}

afterEach(async () => {
  if (!world) return
  const w = world
  world = undefined
  for (const e of w.log.events) if (e.type === "transition" && typeof e.pid === "number") w.pids.add(e.pid)
  await w.sam.stop()
  w.log.stop()
  w.project.remove()
  expect(survivors(w.pids)).toEqual([])
})

const pidOf = (w: World, id: string) => w.sam.unitStatus(id).pid as number
const upAgain = (w: World, id: string, old: number) =>
  w.sam.until(id, (s) => s.state === "running" && s.ready && s.pid !== undefined && s.pid !== old, 20_000)

const isFilesChanged = (unit: string, path?: string) => (e: SamEvent) =>
  e.type === "supervisor" &&
  e.action === "files-changed" &&
  e.unit === unit &&
  (path === undefined || String(e.detail).includes(`(${path})`))
const filesChanged = (events: ReadonlyArray<SamEvent>, unit: string) =>
  events.filter(isFilesChanged(unit)).map((e) => (e.type === "supervisor" ? e.detail : ""))
/** The reasons of `unit`'s transitions into `starting`. */
const startReasons = (events: ReadonlyArray<SamEvent>, unit: string) =>
  events.flatMap((e) => (e.type === "transition" && e.unit === unit && e.to === "starting" ? [e.reason] : []))

describe("watch: a change to a unit's files restarts it", () => {
  it("an edit restarts the running service: a new process, the changed file named as the reason", async () => {
    const w = await boot({ services: { web: service({ debounce_ms: 100 }) } }, { "server.mjs": server(1) })
    const first = pidOf(w, "web")
    const stopping = w.log.upcoming((e) => e.type === "transition" && e.unit === "web" && e.to === "stopping")

    // Ready at spawn (no health check): its first line may come after, so it is waited for.
    const saidV2 = new Promise<void>((resolve) => {
      const off = w.sam.logs.subscribe((records) => {
        if (!records.some((r) => r.unit === "web" && r.line.includes("server v2 up"))) return
        off()
        resolve()
      })
    })
    w.project.write("server.mjs", server(2))
    const status = await upAgain(w, "web", first)

    expect(await stopping).toMatchObject({ from: "running.ready", reason: "its files changed (server.mjs)" })
    expect(startReasons(w.log.events, "web").at(-1)).toBe("its files changed (server.mjs)")
    expect(filesChanged(w.log.events, "web")).toEqual(["web: its files changed (server.mjs); restarting it"])
    expect(status.restarts).toBe(1)
    expect(survivors([first])).toEqual([])
    await saidV2
  })

  it("a burst of saves is one restart, after the quiet time", async () => {
    const w = await boot({ services: { web: service({ debounce_ms: 300 }) } }, { "server.mjs": server(1) })
    const first = pidOf(w, "web")

    // An editor saving several files at once, and a formatter rewriting one of them after it.
    for (let version = 2; version <= 6; version++) {
      w.project.write(version % 2 === 0 ? "server.mjs" : `lib/part${version}.mjs`, server(version))
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const second = await upAgain(w, "web", first)
    // A later, separate edit: by the time it is reported, any second report of the burst would be in.
    w.project.write("lib/later.mjs", "export {}\n")
    await upAgain(w, "web", second.pid as number)

    expect(filesChanged(w.log.events, "web")).toEqual([
      "web: its files changed (server.mjs); restarting it",
      "web: its files changed (lib/later.mjs); restarting it",
    ])
    expect(w.sam.unitStatus("web").restarts).toBe(2)
  })

  it("changes under node_modules, .git, log files, SAM's state dir and configured ignores restart nothing", async () => {
    const w = await boot(
      { services: { web: service({ debounce_ms: 100, ignore: ["cache", "build/**/*.txt"] }) } },
      {
        "server.mjs": server(1),
        "node_modules/dep/index.js": "module.exports = 1\n",
        ".git/HEAD": "ref: refs/heads/main\n",
        "build/out/keep.js": "1\n",
      },
    )
    const first = pidOf(w, "web")

    w.project.write("node_modules/dep/index.js", "module.exports = 2\n")
    w.project.write("node_modules/fresh/index.js", "module.exports = 3\n")
    w.project.write(".git/HEAD", "ref: refs/heads/other\n")
    w.project.write("web.log", "a line the service wrote\n")
    w.project.write("cache/data.json", "{}\n")
    w.project.write("build/out/report.txt", "generated\n")
    w.project.write(".sam/leftover", "written where SAM keeps its state\n")
    // The one change that counts, last: the burst is named by its first change that is not ignored.
    w.project.write("build/out/keep.js", "2\n")
    await upAgain(w, "web", first)

    expect(filesChanged(w.log.events, "web")).toEqual([
      "web: its files changed (build/out/keep.js); restarting it",
    ])
    expect(w.sam.unitStatus("web").restarts).toBe(1)
  })

  it("a crash-looping service comes up as soon as an edit fixes it, without waiting out its backoff", async () => {
    const w = await boot(
      {
        services: {
          // In backoff for 60 s after each crash; a crashed one that gave up.
          looping: service(true, {
            deployment: { mode: "process", command: process.execPath, args: ["server.mjs"], cwd: "looping" },
            restart_policy: { backoff_seconds: 60, max_backoff_seconds: 60 },
          }),
          gaveUp: service(true, {
            deployment: { mode: "process", command: process.execPath, args: ["server.mjs"], cwd: "gave-up" },
            restart_policy: { max_restarts: 0, on_exhausted: "give_up" },
          }),
        },
      },
      { "looping/server.mjs": brokenServer, "gave-up/server.mjs": brokenServer },
      { start: false },
    )
    void w.sam.start()
    await w.sam.until("looping", (s) => s.state === "backoff")
    await w.sam.until("gaveUp", (s) => s.state === "crashed")

    w.project.write("looping/server.mjs", server(2))
    w.project.write("gave-up/server.mjs", server(2))
    // Well within the 60 s backoff.
    await w.sam.until("looping", (s) => s.state === "running" && s.ready, 15_000)
    await w.sam.until("gaveUp", (s) => s.state === "running" && s.ready, 15_000)

    expect(startReasons(w.log.events, "looping").at(-1)).toBe("its files changed (looping/server.mjs)")
    expect(startReasons(w.log.events, "gaveUp").at(-1)).toBe("its files changed (gave-up/server.mjs)")
    const cameUp = (unit: string) =>
      w.log.events
        .filter((e) => e.type === "transition" && e.unit === unit)
        .map((e) => e.type === "transition" && `${e.from}->${e.to}`)
    expect(cameUp("looping")).toContain("backoff->starting")
    expect(cameUp("gaveUp")).toContain("crashed->starting")
  })

  it("a unit the operator stopped stays stopped when its files change", async () => {
    const shared = { paths: ["shared"], debounce_ms: 100 }
    const w = await boot(
      { services: { held: service(shared), witness: service(shared) } },
      { "server.mjs": server(1), "shared/config.json": "{}\n" },
    )
    await w.sam.services.stop("held")
    const witnessPid = pidOf(w, "witness")
    const mark = w.log.events.length

    w.project.write("shared/config.json", '{ "edited": true }\n')
    // Both watchers saw the same change; the witness's restart is the observable end of it.
    const told = await w.log.next(isFilesChanged("held"))
    await upAgain(w, "witness", witnessPid)

    expect(told.type === "supervisor" && told.detail).toBe(
      "held: its files changed (shared/config.json); not restarted: it is stopped (`sam start held` starts it)",
    )
    expect(w.log.events.slice(mark).filter((e) => e.type === "transition" && e.unit === "held")).toEqual([])
    expect(w.sam.unitStatus("held").state).toBe("stopped")
  })

  it.each(["process", "sandbox", "worker", "inline"])(
    "an agent of runtime %s runs its new code once it is edited",
    async (runtime) => {
      const agent = (answer: string) =>
        `export default { capabilities: { answer: () => ${JSON.stringify(answer)} } }\n`
      const w = await boot(
        {
          agents: {
            helper: {
              path: "helper",
              runtime,
              capabilities: ["answer"],
              watch: { debounce_ms: 100 },
            },
          },
        },
        { "helper/index.mjs": agent("first") },
      )
      expect((await w.sam.invoke("answer", {})).output).toBe("first")

      const restarted = w.log.upcoming(
        (e) => e.type === "transition" && e.unit === "helper" && e.to === "running.ready",
      )
      w.project.write("helper/index.mjs", agent("second"))
      await restarted

      expect(startReasons(w.log.events, "helper").at(-1)).toBe("its files changed (helper/index.mjs)")
      expect((await w.sam.invoke("answer", {})).output).toBe("second")
    },
  )
})

describe("watch: watchers live as long as the unit's watch", () => {
  it("a unit that writes into its watched files is restarted three times, then its watching pauses until a restart", async () => {
    // At every start it writes cache.json beside itself: each write is a change of its own files.
    const selfWriter = `import { writeFileSync } from "node:fs"
writeFileSync("cache.json", String(Date.now()))
setInterval(() => {}, 1 << 30)
`
    const w = await boot({ services: { web: service({ debounce_ms: 100 }) } }, { "server.mjs": selfWriter })
    const isLoop = (e: SamEvent) => e.type === "supervisor" && e.action === "watch-loop" && e.unit === "web"
    const loop = await w.log.upcoming(isLoop)
    expect(loop).toMatchObject({
      detail: expect.stringMatching(
        /^web: its watched files changed within 2\.1 s of each of its last 3 starts \(cache\.json\): it seems to write them itself, so it would restart for ever; watching web is paused until its watch config changes or `sam restart web` \(add what it writes to watch\.ignore\)$/,
      ),
    })
    expect(w.sam.unitStatus("web")).toMatchObject({
      state: "running",
      restarts: 3,
      // Its status says so (`sam ps` under its table, the API's watch_paused), not only the event.
      watchPaused:
        "watching paused: its own writes restarted it 3 times in a row (cache.json); `sam restart web` resumes it (add them to watch.ignore)",
    })
    // Paused: an edit is told, not acted on.
    const told = w.log.upcoming(
      (e) =>
        isFilesChanged("web", "server.mjs")(e) &&
        String((e as { detail: string }).detail).endsWith("paused (watch-loop)"),
    )
    w.project.write("server.mjs", `${selfWriter}// edited\n`)
    await told
    expect(w.sam.unitStatus("web").restarts).toBe(3)
    // An operator's restart resumes watching: the loop is caught again.
    const seen = w.log.events.filter(isLoop).length
    await w.sam.services.restart("web")
    expect(w.sam.unitStatus("web").watchPaused).toBeUndefined()
    await w.sam.until("web", () => w.log.events.filter(isLoop).length > seen, 20_000)
  })

  it("a reload that turns watch off or removes the unit closes its watcher; stopping SAM closes the rest", async () => {
    const watchers = () => activeResources().get("FSEventWrap") ?? 0
    const before = watchers()
    const config = (webWatch: unknown, withOther = true) => ({
      services: {
        web: service(webWatch),
        ...(withOther
          ? {
              other: service(
                { paths: ["other"], debounce_ms: 100 },
                {
                  deployment: {
                    mode: "process",
                    command: process.execPath,
                    args: ["../server.mjs"],
                    cwd: "other",
                  },
                },
              ),
            }
          : {}),
      },
    })
    const w = await boot(config({ paths: ["web"], debounce_ms: 100 }), {
      "server.mjs": server(1),
      "web/index.mjs": "export {}\n",
      "other/index.mjs": "export {}\n",
    })
    const watching = watchers()
    expect(watching).toBeGreaterThan(before)
    const webPid = pidOf(w, "web")
    const otherPid = pidOf(w, "other")

    writeConfig(w.project, config(false))
    const report = await w.sam.reloader!.reload()
    expect(report).toMatchObject({ ok: true, reconfigured: ["web"], restarted: [] })
    await closePhase()
    const withoutWeb = watchers()
    expect(withoutWeb).toBeLessThan(watching)
    // Not restarted by the reload (watch applies in place), nor by a change it no longer watches.
    w.project.write("web/index.mjs", "export const edited = true\n")
    w.project.write("other/index.mjs", "export const edited = true\n")
    await upAgain(w, "other", otherPid)
    expect(filesChanged(w.log.events, "web")).toEqual([])
    expect(pidOf(w, "web")).toBe(webPid)

    writeConfig(w.project, config(false, false))
    expect(await w.sam.reloader!.reload()).toMatchObject({ ok: true, removed: ["other"] })
    await closePhase()
    expect(watchers()).toBeLessThan(withoutWeb)

    await w.sam.stop()
    await closePhase()
    expect(watchers()).toBe(before)
  })

  it("a reload that turns watch on starts watching without restarting the unit", async () => {
    const w = await boot({ services: { web: service(false) } }, { "server.mjs": server(1) })
    const first = pidOf(w, "web")
    writeConfig(w.project, { services: { web: service({ debounce_ms: 100 }) } })
    expect(await w.sam.reloader!.reload()).toMatchObject({ ok: true, reconfigured: ["web"] })
    expect(pidOf(w, "web")).toBe(first)

    w.project.write("server.mjs", server(2))
    await upAgain(w, "web", first)
    expect(filesChanged(w.log.events, "web")).toEqual(["web: its files changed (server.mjs); restarting it"])
  })
})

describe("watch: a watched path must exist", () => {
  it("createSam refuses a config whose watched path is missing, naming the unit and the path", async () => {
    const project = tempProject()
    try {
      writeFileSync(project.path("server.mjs"), server(1))
      mkdirSync(project.path("src"))
      writeConfig(project, { services: { web: service({ paths: ["src", "lib"] }) } })
      await expect(
        createSam(project.path("sam.json"), { logFile: false, plugins: false }),
      ).rejects.toMatchObject({
        issues: [
          expect.objectContaining({
            path: "services.web.watch.paths[1]",
            message: `${project.path("lib")} does not exist, so there is nothing to watch; create it or change services.web.watch.paths`,
          }),
        ],
      })
    } finally {
      project.remove()
    }
  })
})

describe("watch: a watcher that cannot watch", () => {
  it("says so on the bus, naming the unit and the path; the unit runs on", async () => {
    // Specs built by an embedder skip loadConfig's check: the watcher itself reports the failure.
    const sam = new Sam({
      units: [
        nodeService("web", "http-service.mjs", {
          watch: { paths: ["/nonexistent/sam-watch/src"], ignore: [], ignoreDirs: [], debounceMs: 100 },
        }),
      ],
      containment: false,
    })
    const log = eventLog(sam.bus)
    try {
      const isFailure = (e: SamEvent) => e.type === "supervisor" && e.action === "watch-failed"
      // Said as SAM is built (its bus keeps it), or just after.
      const failed = sam.events.since().find(isFailure) ?? (await log.next(isFailure))
      expect(failed).toMatchObject({
        unit: "web",
        detail: expect.stringMatching(
          /^web: watching \/nonexistent\/sam-watch\/src failed: ENOENT.*: the watched path is gone; create it again and reload the config$/,
        ),
      })
      expect((await sam.start()).ready).toEqual(["web"])
    } finally {
      const pid = sam.unitStatus("web").pid
      await sam.stop()
      log.stop()
      expect(survivors(pid === undefined ? [] : [pid])).toEqual([])
    }
  })
})
