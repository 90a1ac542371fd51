import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { startApiServer } from "../../src/api/apiServer.ts"
import { ControlApiError, controlClient } from "../../src/api/controlClient.ts"
import { freePort } from "../../src/runtime/freePort.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { fixturePath, type Project, project, untilUnit } from "../support/daemon.ts"
import { survivors } from "../support/runtime.ts"
import { runSam, runSamInTerminal } from "./runSam.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

const service = (args: string[], dependsOn: string[] = []) => ({
  deployment: { mode: "process", command: process.execPath, args },
  health_check: { endpoint: "/health", interval_seconds: 0.1, kind: "readiness" },
  depends_on: dependsOn,
})

describe("sam shutdown", () => {
  it("stops every unit, then SAM itself, and waits until SAM is gone", async () => {
    p = project()
    p.writeConfig({
      services: {
        db: service([fixturePath("http-service.mjs")]),
        api: service([fixturePath("http-service.mjs")], ["db"]),
      },
    })
    const daemon = await p.start()
    await daemon.waitForOutput("press Ctrl+C")
    await untilUnit(daemon, "services", "api", (s) => s.status === "running")
    const pids = (await daemon.api<{ services: Array<{ pid: number | null }> }>("GET", "/api/services")).body
      .services
    const stop = await runSam(["stop"], { cwd: p.dir })
    expect(stop.code).toBe(2)
    const run = await runSam(["shutdown"], { cwd: p.dir })
    expect(run).toMatchObject({ code: 0 })
    expect(run.stdout).toBe(`sam: SAM (pid ${daemon.pid}) is stopping its units, then itself\nsam: stopped\n`)
    expect(await daemon.exited).toBe(0)
    expect(daemon.output()).toContain('shutdown requested through the API by token "local" (admin)')
    expect(survivors(pids.flatMap((s) => (s.pid ? [s.pid] : [])))).toEqual([])
    // Asked again: nothing runs, which is what was wanted (exit 0).
    const again = await runSam(["shutdown"], { cwd: p.dir })
    expect(again).toMatchObject({ code: 0, stderr: "" })
    expect(again.stdout).toMatch(
      /^sam: SAM is not running at http:\/\/127\.0\.0\.1:\d+; nothing to shut down\n$/,
    )
    // Other commands still fail: they wanted a SAM.
    expect(await runSam(["ps"], { cwd: p.dir })).toMatchObject({ code: 1 })
    // The audit log says who did it.
    const verify = await runSam(["audit", "verify", "--config", "sam.config.json"], { cwd: p.dir })
    expect(verify).toMatchObject({ code: 0, stderr: "" })
    const entries = readFileSync(join(p.stateDir, "audit.log"), "utf8").trim().split("\n")
    expect(entries.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ action: "sam.shutdown", target: "sam", result: "ok" }),
    )
  })

  it("is refused to a viewer, and is not available to a SAM embedded in a program", async () => {
    const sam = new Sam({ units: [] })
    const server = await startApiServer({
      sam,
      port: 0,
      localToken: "shutdown-test-admin-token-0123",
      tokens: { watcher: { token: "shutdown-test-viewer-token-0123", role: "viewer" } },
    })
    try {
      const viewer = controlClient({ url: server.url, token: "shutdown-test-viewer-token-0123" })
      await expect(viewer.system.shutdown()).rejects.toMatchObject({ status: 403 })
      const admin = controlClient({ url: server.url, token: "shutdown-test-admin-token-0123" })
      const refused = await admin.system.shutdown().catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(ControlApiError)
      expect(refused).toMatchObject({ status: 501 })
      expect(String((refused as ControlApiError).message)).toContain(
        "this SAM is embedded in a program (createSam), not run by `sam start`: stop it from that program",
      )
    } finally {
      await sam.stop()
      await server.close()
    }
  })
})

describe("the CLI in a folder whose one config file is sam.yaml", () => {
  it("uses it without --config: its API address, its units", async () => {
    p = project("sam.yaml")
    const port = await freePort()
    p.writeConfig({
      api: { host: "127.0.0.1", port },
      services: { web: service([fixturePath("http-service.mjs")]) },
    })
    const shutdown = await runSam(["shutdown"], { cwd: p.dir })
    expect(shutdown).toMatchObject({ code: 0, stderr: "" })
    expect(shutdown.stdout).toBe(
      `sam: SAM is not running at http://127.0.0.1:${port}; nothing to shut down\n`,
    )
    // No SAM, so no token either: `sam dashboard` says the first, as `sam status` does.
    const dashboard = await runSam(["dashboard"], { cwd: p.dir })
    expect(dashboard.code).toBe(1)
    expect(dashboard.stderr).toMatch(
      new RegExp(`^sam: SAM is not running at http://127\\.0\\.0\\.1:${port}: start it with`),
    )
    const print = await runSam(["config", "print"], { cwd: p.dir })
    expect(print.code).toBe(0)
    expect(print.stdout).toContain("web")
  })
})

describe("sam start -d", () => {
  it("prints the dashboard's login link to a terminal (a pty from script(1)), which a pipe does not get", async () => {
    p = project()
    p.writeConfig({ services: { web: service([fixturePath("http-service.mjs")]) } })
    const run = await runSamInTerminal(["start", "-d", "--config", "sam.config.json", "--port", "0"], {
      cwd: p.dir,
    })
    const pid = Number(/running in the background \(pid (\d+)\)/.exec(run.output)?.[1])
    if (pid > 0) p.pids.add(pid)
    expect(run.code).toBe(0)
    const token = readFileSync(join(p.stateDir, "token"), "utf8").trim()
    expect(run.output).toMatch(
      new RegExp(`sam: dashboard: http://127\\.0\\.0\\.1:\\d+/\\?token=${token}\\r?\\n`),
    )
    expect((await runSam(["shutdown"], { cwd: p.dir })).code).toBe(0)
  })

  it("returns once the units are up, SAM running on in the background until sam shutdown", async () => {
    p = project()
    p.writeConfig({ services: { web: service([fixturePath("http-service.mjs")]) } })
    const run = await runSam(["start", "-d", "--config", "sam.config.json", "--port", "0"], { cwd: p.dir })
    const pid = Number(/running in the background \(pid (\d+)\)/.exec(run.stdout)?.[1])
    if (pid > 0) p.pids.add(pid)
    expect(run).toMatchObject({ code: 0 })
    expect(run.stdout).toContain("1/1 units ready")
    expect(run.stdout).not.toContain("press Ctrl+C")
    expect(run.stdout).toMatch(/sam: running in the background \(pid \d+\); `sam shutdown` stops it/)
    // Not a terminal: the dashboard's address without the admin token.
    expect(run.stdout).toMatch(
      /^sam: dashboard: http:\/\/127\.0\.0\.1:\d+\/ \(`sam dashboard` prints its login link/m,
    )
    expect(run.stdout).not.toContain("?token=")
    // It runs on without this command: its units answer, the CLI finds it.
    const ps = await runSam(["ps"], { cwd: p.dir })
    expect(ps.stdout).toMatch(/^web +service +process +running +yes /m)
    const webPid = Number(/^web +service +process +running +yes +1 +\d+ +\S+ +(\d+)/m.exec(ps.stdout)?.[1])
    p.pids.add(webPid)
    expect((await runSam(["shutdown"], { cwd: p.dir })).stdout).toBe(
      `sam: SAM (pid ${pid}) is stopping its units, then itself\nsam: stopped\n`,
    )
    expect(survivors([pid, webPid])).toEqual([])
  })

  it("exits 1 when a unit failed to start, naming it; SAM runs on and retries it", async () => {
    p = project()
    p.writeConfig({
      services: {
        web: service([fixturePath("http-service.mjs")]),
        broken: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("exit.mjs")],
            env: { EXIT_CODE: "1" },
          },
          health_check: { endpoint: "/health", interval_seconds: 0.1, kind: "readiness" },
          restart_policy: { backoff_seconds: 60 },
        },
      },
    })
    const run = await runSam(["start", "-d", "--config", "sam.config.json", "--port", "0"], { cwd: p.dir })
    const pid = Number(/running in the background \(pid (\d+)\)/.exec(run.stdout)?.[1])
    if (pid > 0) p.pids.add(pid)
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/^sam: {3}broken is in backoff: exited with code 1/m)
    expect(run.stderr).toBe(
      "sam: broken failed to start (SAM runs on and retries it: `sam ps`, `sam logs broken`); exit 1\n",
    )
    // Still running, web serving.
    const ps = await runSam(["ps"], { cwd: p.dir })
    expect(ps.stdout).toMatch(/^web +service +process +running +yes /m)
    p.pids.add(Number(/^web +service +process +running +yes +1 +\d+ +\S+ +(\d+)/m.exec(ps.stdout)?.[1]))
    expect((await runSam(["shutdown"], { cwd: p.dir })).code).toBe(0)
  })

  it("fails as sam start does when the config does not load (exit 2), leaving nothing behind", async () => {
    p = project()
    p.writeConfig({ services: { web: { deployment: { mode: "proces" } } } })
    const run = await runSam(["start", "-d", "--config", "sam.config.json"], { cwd: p.dir })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('found "proces" (did you mean "process"?)')
    expect(run.stdout).not.toContain("running in the background")
  })
})

describe("sam start and a second Ctrl+C", () => {
  it("SIGKILLs what is still stopping at once instead of waiting out its grace", async () => {
    p = project()
    p.writeConfig({
      services: {
        stubborn: {
          deployment: { mode: "process", command: process.execPath, args: [fixturePath("stubborn.mjs")] },
          health_check: { endpoint: "/health", interval_seconds: 0.1, kind: "readiness" },
          // Far longer than the test may take: only the second signal can end this stop in time.
          stop: { grace_seconds: 600 },
        },
      },
      runtime: { shutdown_timeout_seconds: 600 },
    })
    const daemon = await p.start()
    await daemon.waitForOutput("press Ctrl+C")
    const unit = await untilUnit(daemon, "services", "stubborn", (s) => s.status === "running" && s.ready)
    p.pids.add(unit.pid as number)
    daemon.child.kill("SIGINT")
    await daemon.waitForOutput("stopping units in reverse dependency order")
    // Its stop has begun (SIGTERM sent, ignored): the grace would run for ten minutes.
    await untilUnit(daemon, "services", "stubborn", (s) => s.status === "stopping")
    daemon.child.kill("SIGINT")
    expect(await daemon.exited).toBe(0)
    expect(daemon.output()).toContain("sam: SIGINT received again: SIGKILL what is still stopping")
    expect(daemon.output()).toContain("sam: stopped")
    expect(survivors([unit.pid as number])).toEqual([])
  }, 60_000)
})

describe("sam start and SIGHUP", () => {
  it("its terminal closed: every unit stops gracefully, then SAM, exit 0 (not an abrupt end that leaves the reaper to SIGKILL)", async () => {
    p = project()
    p.writeConfig({ services: { web: service([fixturePath("http-service.mjs")]) } })
    const daemon = await p.start()
    await daemon.waitForOutput("press Ctrl+C")
    const web = await untilUnit(daemon, "services", "web", (s) => s.status === "running")
    p.pids.add(web.pid as number)
    daemon.child.kill("SIGHUP")
    expect(await daemon.exited).toBe(0)
    expect(daemon.output()).toContain("sam: SIGHUP received, stopping units in reverse dependency order")
    expect(daemon.output()).toContain("sam: stopped")
  })
})
