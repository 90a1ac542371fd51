import { spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { type AddressInfo, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { waitUntil } from "../support/containment.ts"
import { fixturePath, projectPerTest } from "../support/daemon.ts"
import { survivors } from "../support/runtime.ts"
import { repoRoot, runSam } from "./runSam.ts"

// Cleaned up after each test even when one times out (its own finally never runs then).
const project = projectPerTest()

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const fixture = (name: string) => join(repoRoot, "test", "fixtures", name)

describe("sam start (the daemon)", () => {
  it("brings units up in dependency order and on SIGTERM stops them in reverse, then exits 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-daemon-"))
    dirs.push(dir)
    const service = (dependsOn: string[]) => ({
      deployment: { mode: "process", command: process.execPath, args: [fixture("http-service.mjs")] },
      depends_on: dependsOn,
      health_check: { endpoint: "/health", interval_seconds: 1, kind: "readiness" },
    })
    writeFileSync(
      join(dir, "sam.config.json"),
      JSON.stringify({ services: { db: service([]), api: service(["db"]), web: service(["api"]) } }),
    )
    const child = spawn(
      process.execPath,
      [join(repoRoot, "src/cli/main.ts"), "start", "--config", "sam.config.json", "--port", "0"],
      {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ["ignore", "pipe", "pipe"],
      },
    )
    let stdout = ""
    let stderr = ""
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString()
        if (stdout.includes("units ready")) resolve()
      })
      child.once("exit", () => reject(new Error(`sam exited early:\n${stdout}\n${stderr}`)))
    })
    expect(stdout).toContain("3/3 units ready")
    const pids = [...stdout.matchAll(/ready \S+ pid (\d+)/g)].map((m) => Number(m[1]))
    expect(pids).toHaveLength(3)
    expect([...stdout.matchAll(/ready (\S+) pid/g)].map((m) => m[1])).toEqual(["db", "api", "web"])

    child.kill("SIGTERM")
    expect(await exited).toBe(0)
    expect(survivors(pids)).toEqual([])
    // Each unit's stop is told as it happens, dependents first.
    expect([...stdout.matchAll(/^ {3}■ (\S+) stopped$/gm)].map((m) => m[1])).toEqual(["web", "api", "db"])
    const log = readFileSync(join(dir, ".sam", "sam.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { unit?: string; to?: string })
    const stopped = log.filter((l) => l.to === "stopped").map((l) => l.unit)
    expect(stopped).toEqual(["web", "api", "db"])
  })

  it("with its API port taken, exits 1 before starting any unit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-daemon-"))
    dirs.push(dir)
    const marker = join(dir, "started")
    writeFileSync(
      join(dir, "sam.config.json"),
      JSON.stringify({
        services: {
          web: {
            deployment: {
              mode: "process",
              command: process.execPath,
              args: [
                "-e",
                "require('node:fs').writeFileSync(process.argv[1], ''); setInterval(() => {}, 1000)",
                marker,
              ],
            },
          },
        },
      }),
    )
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve))
    const port = (holder.address() as AddressInfo).port
    try {
      const run = await runSam(["start", "--config", "sam.config.json", "--port", String(port)], { cwd: dir })
      expect(run.code).toBe(1)
      expect(run.stdout).toContain("the address is in use")
      expect(run.stdout).toContain("sam: the control API could not start; nothing was started\n")
      expect(run.stdout).not.toContain("stopping units")
      expect(readFileSync(join(dir, ".sam", "sam.log"), "utf8")).toContain("the control API could not start")
      expect(run.stdout).not.toMatch(/web starting|ready web/)
      expect(existsSync(marker)).toBe(false)
    } finally {
      await new Promise((resolve) => holder.close(resolve))
    }
  })

  it("applies a config edit saved while the units still start: one waiting for a dependency starts once, with the edit", async () => {
    const p = project()
    try {
      const flag = join(p.dir, "unhealthy")
      writeFileSync(flag, "")
      const service = (greeting: string, dependsOn: string[] = []) => ({
        deployment: {
          mode: "process",
          command: process.execPath,
          args: [fixturePath("http-service.mjs")],
          env: { GREETING: greeting },
        },
        ...(dependsOn.length === 0 ? {} : { depends_on: dependsOn }),
      })
      const config = (greeting: string) => ({
        api: { port: 0 },
        services: {
          // Not ready while the flag exists: the start-up waits for it.
          slow: {
            deployment: {
              mode: "process",
              command: process.execPath,
              args: [fixturePath("toggle-health.mjs")],
              env: { UNHEALTHY_FILE: flag },
            },
            health_check: {
              endpoint: "/health",
              interval_seconds: 0.1,
              failure_threshold: 1,
              kind: "readiness",
            },
          },
          web: service(greeting),
          app: service(greeting, ["slow"]),
        },
      })
      p.writeConfig(config("hello"))
      const sam = await p.start()
      await sam.waitForOutput(/^started web pid \d+/m)
      // Saved while slow is not ready yet, so while `sam start` is still starting its units: web
      // (running) restarts with it at once, app (waiting for slow) takes it before it starts.
      p.writeConfig(config("bonjour"))
      await sam.waitForOutput("config reloaded: restarted web, app")
      expect(sam.output()).not.toMatch(/started app pid/)
      rmSync(flag)
      await sam.waitForOutput(/^started app pid \d+/m)
      const started = [...sam.output().matchAll(/^started app pid (\d+)/gm)].map((m) => Number(m[1]))
      expect(started).toHaveLength(1)
      const environ = readFileSync(`/proc/${started[0]}/environ`, "utf8").split("\0")
      expect(environ).toContain("GREETING=bonjour")
      // Started once: no restart to take the edit after it started with the config it replaced.
      expect(sam.output()).not.toMatch(/app stopped/)
      sam.child.kill("SIGTERM")
      expect(await sam.exited).toBe(0)
    } finally {
      expect(await p.cleanup()).toEqual([])
    }
  })

  it("tells an operator's suspend, resume, stop and scale down as they happen, with the reason when there is more to say", async () => {
    const p = project()
    try {
      p.writeConfig({
        api: { port: 0 },
        services: {
          web: {
            deployment: { mode: "process", command: process.execPath, args: [fixture("http-service.mjs")] },
            health_check: { endpoint: "/health", interval_seconds: 0.1, kind: "readiness" },
            scaling: { min_instances: 2 },
          },
        },
      })
      const sam = await p.start()
      await sam.waitForOutput("units ready")
      const pid = Number(/ready web#0 pid (\d+)/.exec(sam.output())?.[1])
      p.pids.add(pid)
      const cli = (...args: string[]) => runSam([...args, "--config", "sam.config.json"], { cwd: p.dir })
      expect((await cli("suspend", "web")).code).toBe(0)
      await sam.waitForOutput(`   ‖ web#0 suspended pid ${pid}\n`)
      const before = sam.output().length
      expect((await cli("resume", "web")).code).toBe(0)
      await sam.waitForOutput(new RegExp(`ready web#0 pid ${pid} \\d+\\.\\ds\\n`))
      expect(sam.output().slice(before)).toContain(`   … web#0 resuming pid ${pid}\n`)
      expect((await cli("scale", "web", "1")).code).toBe(0)
      await sam.waitForOutput(/^ {3}■ web#1 stopped \(scaled to 1 instance\)$/m)
      expect((await cli("stop", "web")).code).toBe(0)
      // A unit that may run several names its instance 0 as `sam ps` lists it: web#0.
      await sam.waitForOutput(/^ {3}■ web#0 stopped$/m)
      sam.child.kill("SIGTERM")
      expect(await sam.exited).toBe(0)
    } finally {
      expect(await p.cleanup()).toEqual([])
    }
  })

  it("counts a finished job apart (depends_on ... service_completed_successfully), says what a unit waits for, and fails a restart that leaves a unit not ready", async () => {
    const p = project()
    try {
      const node = (file: string) => ({
        mode: "process",
        command: process.execPath,
        args: [fixturePath(file)],
      })
      const services = {
        migrate: {
          deployment: { ...node("exit.mjs"), env: { EXIT_CODE: "0" } },
          restart_policy: "on-failure",
        },
        app: {
          deployment: node("http-service.mjs"),
          health_check: { endpoint: "/health" },
          depends_on: { migrate: { condition: "service_completed_successfully" } },
        },
        broken: { deployment: { ...node("exit.mjs"), env: { EXIT_CODE: "3" } }, restart_policy: "never" },
        blocked: {
          deployment: node("http-service.mjs"),
          depends_on: { broken: { condition: "service_completed_successfully" } },
        },
      }
      p.writeConfig({ api: { port: 0 }, services })
      const sam = await p.start()
      await sam.waitForOutput(/^sam: 1\/4 units ready, 1 completed \(migrate\) in \d+ ms/m)
      // The job's clean exit is told plainly; a failing one's exit is a warning.
      expect(sam.output()).toContain("   ✓ migrate exited with code 0\n")
      // The stop that follows says only what the exit line did not: why it is not restarted.
      expect(sam.output()).toContain(
        "   ■ migrate stopped (not restarted: clean exit of a transient (on-failure) unit)\n",
      )
      // With no readiness check nothing was checked: the job started, it was never "ready".
      expect(sam.output()).toMatch(/^started migrate pid \d+ \d+\.\ds$/m)
      expect(sam.output()).not.toMatch(/ready migrate/)
      expect(sam.output()).toMatch(/^ready app pid \d+ /m)
      expect(sam.output()).toMatch(/^ *! broken: exited with code 3$/m)
      const cli = (...args: string[]) => runSam([...args, "--config", "sam.config.json"], { cwd: p.dir })
      // `sam ps`: the job done reads "completed", the waiting unit says for what.
      const ps = await cli("ps")
      expect(ps.stdout).toMatch(/^migrate\s+service\s+process\s+completed\s/m)
      expect(ps.stdout).toMatch(/^blocked: waiting for broken to complete$/m)
      // Added by a reload:
      p.writeConfig({
        api: { port: 0 },
        services: {
          ...services,
          // Ready after a minute: its readiness check (0.1 s × 2 + 0.5 s) gives up long before.
          slow: {
            deployment: { ...node("slow-ready.mjs"), env: { READY_AFTER_MS: "60000" } },
            health_check: {
              endpoint: "/health",
              interval_seconds: 0.1,
              failure_threshold: 2,
              timeout_seconds: 0.5,
              kind: "readiness",
            },
          },
        },
      })
      expect((await cli("reload")).code).toBe(0)
      // A restart that leaves the unit not ready fails, as `compose up --wait` does; one that is ready does not.
      const restart = await cli("restart", "slow")
      expect(restart.code).toBe(1)
      expect(restart.stderr).toContain("sam: slow did not become ready: its readiness check has not passed\n")
      expect((await cli("restart", "app")).code).toBe(0)
      sam.child.kill("SIGTERM")
      expect(await sam.exited).toBe(0)
    } finally {
      expect(await p.cleanup()).toEqual([])
    }
  })

  it("a running plugin's failed edit, its restart after a throw and its giving up are told in the output and logged as warnings and errors", async () => {
    const p = project()
    try {
      mkdirSync(join(p.dir, "plugins"), { recursive: true })
      const plugin = join(p.dir, "plugins", "ok.mjs")
      writeFileSync(plugin, 'export default { name: "ok", version: "1.2.0", setup() {} }\n')
      p.writeConfig({ api: { port: 0 } })
      const sam = await p.start()
      await sam.waitForOutput(/^sam: plugins: ok 1\.2\.0\n/m)
      writeFileSync(plugin, 'export default { name: "ok", version: "1.3.0", setup() { ; }; }}\n')
      await sam.waitForOutput(
        /^sam: plugin ok: the edit was not loaded \(1\.2\.0 keeps serving\): could not import plugins\/ok\.mjs: plugins\/ok\.mjs:1:61 syntax error: Unexpected token ';'$/m,
      )
      // A version whose timer throws: restarted after a backoff, then given up on.
      writeFileSync(
        plugin,
        'export default { name: "ok", version: "2.0.0", setup(ctx) { ctx.timers.setTimeout(() => { throw new Error("tick failed") }, 1) } }\n',
      )
      await sam.waitForOutput(
        /^sam: plugin ok failed: plugin "ok" 2\.0\.0: its timer \(timeout 1 ms\) threw: tick failed; the plugin was stopped$/m,
      )
      await sam.waitForOutput(/^sam: plugin ok restarts in \d+(\.\d)?s$/m)
      await sam.waitForOutput(
        /^sam: plugin ok gave up after 3 restarts in 60s \(save a fixed version to reload it\)$/m,
      )
      // A config edit SAM refuses (it goes on with the one before) is a warning too.
      p.writeConfig({ api: { port: 0 }, apii: {} })
      await sam.waitForOutput(
        /^sam: config reload rejected, still running the previous config:\nsam\.config\.json:\d+:\d+ apii: unknown key/m,
      )
      const log = readFileSync(join(p.stateDir, "sam.log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { level: number; type?: string })
      const levelOf = (type: string) => log.find((l) => l.type === type)?.level
      expect([levelOf("plugin.reload-failed"), levelOf("plugin.restarting")]).toEqual([40, 40])
      expect(levelOf("config.invalid")).toBe(40)
      expect([levelOf("plugin.failed"), levelOf("plugin.crashed")]).toEqual([50, 50])
      sam.child.kill("SIGTERM")
      expect(await sam.exited).toBe(0)
    } finally {
      expect(await p.cleanup()).toEqual([])
    }
  })

  it("a plugin that fails to load is told in its output, with what to do for a CommonJS package", async () => {
    const p = project()
    try {
      // What `npm init -y` writes: an explicit CommonJS package, where a .ts plugin's import fails.
      writeFileSync(join(p.dir, "package.json"), JSON.stringify({ name: "trial", type: "commonjs" }))
      mkdirSync(join(p.dir, "plugins", "notes"), { recursive: true })
      writeFileSync(
        join(p.dir, "plugins", "notes", "index.ts"),
        'import { hostname } from "node:os"\nexport default { name: "notes", setup: () => hostname() }\n',
      )
      writeFileSync(
        join(p.dir, "plugins", "ok.mjs"),
        'export default { name: "ok", version: "1.2.0", setup() {} }\n',
      )
      // Failed imports say where in the file, as a config's do: a syntax error, a throw at load time.
      writeFileSync(join(p.dir, "plugins", "syn.mjs"), 'export default {\n  name: "syn",\n  version: ;\n}\n')
      mkdirSync(join(p.dir, "plugins", "kit"))
      writeFileSync(
        join(p.dir, "plugins", "kit", "index.mjs"),
        'const ready = true\nif (ready) throw new Error("top-level kit failure")\nexport default {}\n',
      )
      p.writeConfig({ api: { port: 0 } })
      const sam = await p.start()
      await sam.waitForOutput("units ready")
      expect(sam.output()).toContain(
        "sam: plugin syn failed: could not import plugins/syn.mjs: plugins/syn.mjs:3:12 syntax error: Unexpected token ';'\n",
      )
      expect(sam.output()).toContain(
        "sam: plugin kit failed: could not import plugins/kit: plugins/kit/index.mjs:2:18 top-level kit failure\n",
      )
      expect(sam.output()).toMatch(
        /^sam: plugin notes failed: could not import plugins\/notes: .*Cannot use import statement outside a module.* \(Node loaded \S+index\.ts as CommonJS: name it \.mts or \.mjs, or set "type": "module"/m,
      )
      // The ones that run are named too.
      expect(sam.output()).toMatch(/^sam: plugins: ok 1\.2\.0\n/m)
      sam.child.kill("SIGTERM")
      expect(await sam.exited).toBe(0)
    } finally {
      expect(await p.cleanup()).toEqual([])
    }
  })

  it("an inline agent that calls process.exit ends SAM: said on its stderr and in sam.log, and the units are stopped", async () => {
    const p = project()
    try {
      mkdirSync(join(p.dir, "bye"), { recursive: true })
      writeFileSync(
        join(p.dir, "bye", "index.mjs"),
        "export default { capabilities: { bye: () => process.exit(3) } }\n",
      )
      p.writeConfig({
        api: { port: 0 },
        agents: { bye: { path: "./bye", runtime: "inline", capabilities: ["bye"] } },
        services: {
          web: {
            deployment: {
              mode: "process",
              command: process.execPath,
              args: [fixturePath("http-service.mjs")],
            },
          },
        },
      })
      const sam = await p.start()
      await sam.waitForOutput("press Ctrl+C")
      // web has no readiness check: it started, and a command says so rather than "ready"; so
      // does the start-up's summary, which counts it. An agent is ready once its setup finished:
      // that is checked, so bye is not among them.
      expect(sam.output()).toMatch(/^started web pid \d+ /m)
      expect(sam.output()).toMatch(/^ready bye \d+\.\ds$/m)
      expect(sam.output()).toMatch(/units ready in \d+ ms; API \S+; started with no readiness check: web$/m)
      const bye = await sam.api<{ readiness_checked: boolean; reason: string }>("GET", "/api/agents/bye")
      expect(bye.body).toMatchObject({
        readiness_checked: true,
        reason: "the agent is ready: its setup finished",
      })
      const restarted = await runSam(["restart", "web", "--config", "sam.config.json"], { cwd: p.dir })
      expect(restarted.stdout).toMatch(/^web is running \(no readiness check\), pid \d+\n$/)
      // The API says it as a field, not in words: the reason is free text.
      const web = await sam.api<{ ready: boolean; readiness_checked: boolean }>("GET", "/api/services/web")
      expect(web.body).toMatchObject({ ready: true, readiness_checked: false })
      await sam.api("POST", "/api/capabilities/bye/invoke", { input: {} }).catch(() => undefined)
      expect(await sam.exited).toBe(3)
      const said =
        "SAM's process exited with code 3 while running: code in it called process.exit() (an inline or worker agent, or a plugin?); SAM's reaper stops its units"
      expect(sam.output()).toContain(`sam: ${said}\n`)
      const log = readFileSync(join(p.stateDir, "sam.log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
      expect(log.at(-1)).toMatchObject({ level: 60, type: "sam.exited", msg: said })
      // SAM's reaper stops what it ran once SAM is gone (docs/CONTAINMENT.md: within 3 s).
      const units = [...sam.output().matchAll(/pid (\d+)/g)].map((m) => Number(m[1]))
      expect(await waitUntil(() => survivors(units).length === 0)).toBe(true)
    } finally {
      expect(await p.cleanup()).toEqual([])
    }
  })
})
