import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { createSam } from "../../src/app/createSam.ts"
import type { SamConfigInput } from "../../src/config/schema.ts"
import { runSam } from "../cli/runSam.ts"
import { fixturePath, type Project, project, untilUnit } from "../support/daemon.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

const http = (env: Record<string, string> = {}) => ({
  deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")], env },
  health_check: { endpoint: "/health", interval_seconds: 1, kind: "readiness" },
})

describe("an operator's stop and start outlive SAM", () => {
  it("a stopped unit stays stopped across SIGKILL of SAM and a restart, until the operator starts it", async () => {
    p = project()
    p.writeConfig({ services: { keep: http(), paused: http() } })
    let sam = await p.start()
    await sam.waitForOutput("2/2 units ready")
    expect((await sam.api("POST", "/api/services/paused/stop")).status).toBe(200)

    sam.child.kill("SIGKILL")
    await sam.exited
    sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    expect(sam.output()).toContain("1/2 units ready")
    expect(sam.output()).toMatch(/paused is stopped: stopped by \S+ at \S+, kept across SAM restarts/)
    const paused = await sam.api<{ status: string; reason: string }>("GET", "/api/services/paused")
    expect(paused.body).toMatchObject({
      status: "stopped",
      reason: expect.stringContaining("kept across SAM restarts"),
    })
    await untilUnit(sam, "services", "keep", (s) => s.status === "running" && s.ready)

    // The operator's start is remembered too: after the next hard kill it comes back.
    expect((await sam.api("POST", "/api/services/paused/start")).status).toBe(200)
    sam.child.kill("SIGKILL")
    await sam.exited
    sam = await p.start()
    await sam.waitForOutput("2/2 units ready")
  })

  it("a change to the unit's config clears the operator's stop: the config has its say again", async () => {
    p = project()
    p.writeConfig({ services: { api: http() } })
    let sam = await p.start()
    await sam.waitForOutput("1/1 units ready")
    await sam.api("POST", "/api/services/api/stop")
    sam.child.kill("SIGTERM")
    expect(await sam.exited).toBe(0)

    sam = await p.start()
    await sam.waitForOutput("0/1 units ready")
    sam.child.kill("SIGTERM")
    expect(await sam.exited).toBe(0)

    p.writeConfig({ services: { api: http({ MODE: "changed" }) } })
    sam = await p.start()
    await sam.waitForOutput("1/1 units ready")
  })
})

describe("an operator's stop and a config change while SAM runs", () => {
  it("the change ends the stop as it does across a restart of SAM: the unit starts, and the reload says so", async () => {
    p = project()
    p.writeConfig({ services: { api: http(), probe: http(), other: http() } })
    const sam = await p.start()
    await sam.waitForOutput("3/3 units ready")
    await sam.api("POST", "/api/services/api/stop")
    await sam.api("POST", "/api/services/probe/stop")
    await sam.api("POST", "/api/services/other/stop")

    // One change only a new process honours, one applied in place; `other` untouched stays stopped.
    const probeCheck = { endpoint: "/health", interval_seconds: 2, kind: "readiness" }
    p.writeConfig({
      services: {
        api: http({ MODE: "changed" }),
        probe: { ...http(), health_check: probeCheck },
        other: http(),
      },
    })
    await sam.waitForOutput(
      "config reloaded: started api, probe (their config changed, which ends an operator's stop)",
    )
    await untilUnit(sam, "services", "api", (s) => s.status === "running" && s.ready)
    await untilUnit(sam, "services", "probe", (s) => s.status === "running" && s.ready)
    const other = await sam.api<{ status: string }>("GET", "/api/services/other")
    expect(other.body.status).toBe("stopped")
  })
})

describe("an operator's scale outlives SAM", () => {
  it("kept across a restart of SAM, forgotten when scaled back to the config's count or when the config changes", async () => {
    p = project()
    const web = (env: Record<string, string> = {}) => ({ ...http(env), scaling: { max_instances: 3 } })
    p.writeConfig({ services: { web: web() } })
    let sam = await p.start()
    await sam.waitForOutput("1/1 units ready")
    expect((await sam.api("POST", "/api/services/web/scale", { instances: 3 })).status).toBe(200)
    const instancesOf = async () =>
      (await sam.api<{ instances: number }>("GET", "/api/services/web")).body.instances

    sam.child.kill("SIGKILL")
    await sam.exited
    sam = await p.start()
    await sam.waitForOutput("1/1 units ready")
    expect(await instancesOf()).toBe(3)
    // Said where an operator looks: the start-up, the API (`scaled`) and `sam ps` under its table.
    const said =
      /^sam: {3}web: scaled to 3 by (\S+) at (\S+) \(the config says 1\), kept across SAM restarts; `sam scale web 1` returns to the config$/m
    await sam.waitForOutput(said)
    const note = said.exec(sam.output())![0].replace(/^sam: {3}web: /, "")
    expect((await sam.api<{ scaled: string | null }>("GET", "/api/services/web")).body.scaled).toBe(note)
    const ps = await runSam(["ps"], { cwd: p.dir })
    expect(ps.stdout).toContain(`\nweb: ${note}\n`)
    // Each instance's progress line names it as `sam logs` does.
    await sam.waitForOutput("ready web#2 pid")
    expect(sam.output()).toMatch(/^ready web#1 pid \d+ /m)
    await untilUnit(sam, "services", "web", (s) => s.ready)

    // Back to the config's count: nothing is kept, the next SAM runs the config's one.
    expect((await sam.api("POST", "/api/services/web/scale", { instances: 1 })).status).toBe(200)
    sam.child.kill("SIGTERM")
    expect(await sam.exited).toBe(0)
    sam = await p.start()
    await sam.waitForOutput("1/1 units ready")
    expect(await instancesOf()).toBe(1)
    expect((await sam.api<{ scaled: string | null }>("GET", "/api/services/web")).body.scaled).toBeNull()

    // A scale to 2, then a change of the unit's config: the config has its say again.
    expect((await sam.api("POST", "/api/services/web/scale", { instances: 2 })).status).toBe(200)
    sam.child.kill("SIGTERM")
    expect(await sam.exited).toBe(0)
    p.writeConfig({ services: { web: web({ MODE: "changed" }) } })
    sam = await p.start()
    await sam.waitForOutput("1/1 units ready")
    expect(await instancesOf()).toBe(1)

    // So does a change reloaded while it runs: the kept scale of 3 gives way to the config's 1
    // (all together, not rolled: docs/CONFIG.md, Reloading).
    expect((await sam.api("POST", "/api/services/web/scale", { instances: 3 })).status).toBe(200)
    p.writeConfig({ services: { web: web({ MODE: "again" }) } })
    expect((await sam.api("POST", "/api/config/reload")).status).toBe(200)
    await untilUnit(sam, "services", "web", (s) => s.ready)
    expect(await instancesOf()).toBe(1)
    expect(sam.output()).not.toMatch(/restarting \d+ instances one at a time/)
  })

  it("a scale with remember: false (the autoscaler's, the gateway's start-on-demand) is not kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-scale-kept-"))
    const config: SamConfigInput = {
      services: {
        web: {
          deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
          scaling: { max_instances: 3 },
        },
      },
      runtime: { state_dir: ".sam" },
    }
    try {
      let sam = await createSam(config, { cwd: dir, plugins: false })
      await sam.start()
      await sam.scale("web", 3, { remember: false })
      expect(sam.unitStatus("web").instances).toHaveLength(3)
      await sam.stop()
      sam = await createSam(config, { cwd: dir, plugins: false })
      expect(sam.unitStatus("web").instances).toHaveLength(1)
      await sam.stop()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("an operator's stop of a dependency", () => {
  it("is not undone by a start or restart of a dependent: that is refused, naming the dependency", async () => {
    p = project()
    p.writeConfig({ services: { db: http(), api: { ...http(), depends_on: ["db"] } } })
    const sam = await p.start()
    await sam.waitForOutput("2/2 units ready")
    expect((await sam.api("POST", "/api/services/db/stop")).status).toBe(200)
    const refused = await sam.api<{ detail: string; state: string }>("POST", "/api/services/api/restart")
    expect(refused.status).toBe(409)
    expect(refused.body.detail).toContain(
      'cannot restart "api": its dependency db was stopped by an operator; start it first',
    )
    expect((await sam.api("GET", "/api/services/db")).body).toMatchObject({ status: "stopped" })
  })
})

describe("SAM's shutdown is bounded", () => {
  it("a unit stuck stopping to restart (SIGTERM ignored, 30 s grace) cannot hold SAM past shutdown_timeout_seconds", async () => {
    p = project()
    p.writeConfig({
      runtime: { shutdown_timeout_seconds: 2 },
      services: {
        stubborn: {
          deployment: { mode: "process", command: process.execPath, args: [fixturePath("stubborn.mjs")] },
          health_check: { endpoint: "/health", interval_seconds: 1, kind: "readiness" },
          stop: { grace_seconds: 30 },
        },
      },
    })
    const sam = await p.start()
    await sam.waitForOutput("1/1 units ready")
    // The restart waits out the 30 s grace: the unit is `stopping (to restart)`.
    void sam.api("POST", "/api/services/stubborn/restart").catch(() => {})
    await untilUnit(sam, "services", "stubborn", (s) => s.status === "stopping")
    const began = Date.now()
    sam.child.kill("SIGTERM")
    expect(await sam.exited).toBe(0)
    // Far below the 30 s grace: the 2 s shutdown timeout, then SIGKILL of what was left.
    expect(Date.now() - began).toBeLessThan(15_000)
    expect(sam.output()).toContain("shutdown took longer than 2s")
  })
})
