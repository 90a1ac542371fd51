// `sam ps` and a service of several instances: a row for each under the unit's (state, pid,
// uptime, usage), as PM2 lists every process; `--json` and the API carry them as `per_instance`.
import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project, type UnitBody, untilUnit } from "../support/daemon.ts"
import { runSam } from "./runSam.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

interface Instance {
  readonly instance: number
  readonly status: string
  readonly pid: number | null
  readonly port: number | null
}

describe("sam ps and a service of several instances", () => {
  it("lists each instance under its unit, with its pid; none once all are stopped", async () => {
    p = project()
    p.writeConfig({
      services: {
        web: {
          deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
          health_check: { endpoint: "/health", interval_seconds: 0.1, kind: "readiness" },
          scaling: { min_instances: 3 },
        },
        db: {
          deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
        },
      },
    })
    const sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    await untilUnit(sam, "services", "web", (s) => s.status === "running" && s.ready)
    const view = await sam.api<{ per_instance: Instance[] }>("GET", "/api/services/web")
    const instances = view.body.per_instance
    expect(instances.map((i) => [i.instance, i.status])).toEqual([
      [0, "running"],
      [1, "running"],
      [2, "running"],
    ])
    for (const i of instances) {
      expect(i.pid).toBeGreaterThan(0)
      expect(i.port).toBeGreaterThan(0)
    }
    expect(new Set(instances.map((i) => i.port)).size).toBe(3)

    const ps = await runSam(["ps"], { cwd: p.dir })
    expect(ps.code).toBe(0)
    const lines = ps.stdout.split("\n")
    const at = lines.findIndex((l) => /^web +service +process +running +yes +3 /.test(l))
    expect(at).toBeGreaterThan(0)
    for (const i of instances)
      expect(lines[at + 1 + i.instance]).toMatch(
        new RegExp(`^  web#${i.instance} +running +yes +\\d+ +\\S+ +${i.pid} +${i.port} `),
      )
    // One instance: its port on the unit's row.
    const db = (await sam.api<{ per_instance: Instance[] }>("GET", "/api/services/db")).body.per_instance[0]
    expect(lines[at + 4]).toMatch(
      new RegExp(`^db +service +process +running +yes +1 +\\d+ +\\S+ +${db?.pid} +${db?.port} `),
    )
    // A unit of one instance has no rows of its own.
    expect(lines[at + 4]).toMatch(/^db +service /)
    expect(ps.stdout).not.toContain("db#0")
    const json = JSON.parse((await runSam(["ps", "web", "--json"], { cwd: p.dir })).stdout) as Array<{
      per_instance: Instance[]
    }>
    expect(json[0]?.per_instance.map((i) => i.pid)).toEqual(instances.map((i) => i.pid))

    // `sam crashes` and SAM's console name instance 0 as its row does: web#0, not web.
    const first = instances[0]?.pid as number
    process.kill(first, "SIGKILL")
    await untilUnit(sam, "services", "web", (s) => s.restarts > 0 && s.status === "running" && s.ready)
    const crashes = await runSam(["crashes", "web"], { cwd: p.dir })
    expect(crashes.stdout).toMatch(/^\d+ +\S+ \S+ +web#0 +SIGKILL /m)
    expect(sam.output()).toMatch(/^ {3}… web#0 starting$/m)
    expect(sam.output()).toMatch(/^ready web#1 pid \d+ /m)
    expect(sam.output()).not.toMatch(/ web (starting|pid)/)

    expect((await runSam(["stop", "web"], { cwd: p.dir })).code).toBe(0)
    const stopped = await runSam(["ps"], { cwd: p.dir })
    expect(stopped.stdout).toMatch(/^web +service +process +stopped +no /m)
    expect(stopped.stdout).not.toContain("web#")
  })

  it("names the instance that is down under the table (web#0), not just its unit", async () => {
    p = project()
    const exits = (env: Record<string, string>) => ({
      deployment: { mode: "process", command: process.execPath, args: [fixturePath("exit.mjs")], env },
      restart_policy: "never",
    })
    p.writeConfig({
      services: {
        // Instance 0 is not ready for 10 minutes; instance 1 is at once.
        web: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("first-instance-slow.mjs")],
            env: { READY_AFTER_MS: "600000" },
          },
          health_check: { endpoint: "/health", interval_seconds: 0.2, kind: "readiness" },
          scaling: { min_instances: 2 },
        },
        job: { ...exits({ EXIT_MESSAGE: "boom" }), scaling: { min_instances: 2 } },
        single: exits({ EXIT_MESSAGE: "alone" }),
      },
    })
    const sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    type Instances = UnitBody & { per_instance: Array<Instance & { ready: boolean; reason: string }> }
    const web = await untilUnit<Instances>(sam, "services", "web", (s) => {
      const [first, second] = s.per_instance
      return first?.reason.endsWith("-> 503") === true && second?.ready === true
    })
    await untilUnit(sam, "services", "job", (s) => s.status === "stopped")
    await untilUnit(sam, "services", "single", (s) => s.status === "stopped")
    const ps = await runSam(["ps"], { cwd: p.dir })
    expect(ps.code).toBe(0)
    const notes = ps.stdout.slice(ps.stdout.indexOf("\n\n") + 1)
    expect(notes).toContain(`\nweb#0: GET http://127.0.0.1:${web.per_instance[0]?.port}/health -> 503\n`)
    expect(notes).not.toMatch(/^web(:|#1)/m)
    // Instances down for the same reason share a line; a unit of one instance is named as its row.
    expect(notes).toContain(
      "job#0, job#1: exited with code 1: boom; not restarted: restart policy is temporary (never)\n",
    )
    expect(notes).not.toMatch(/^job:/m)
    expect(notes).toContain("\nsingle: exited with code 1: alone; not restarted: ")
  })

  it("says under the table why a config change stopped rolling out, until a stop", async () => {
    p = project()
    const web = (env: Record<string, string>) => ({
      deployment: {
        mode: "process",
        command: process.execPath,
        args: [fixturePath("gateway-upstream.mjs")],
        env,
      },
      health_check: { endpoint: "/health", interval_seconds: 0.1, kind: "readiness" },
      scaling: { min_instances: 2 },
      // The crashed instance waits out its backoff while the checks below read it (a retry in
      // between would be `starting`, not down).
      restart_policy: { backoff_seconds: 60 },
    })
    p.writeConfig({ services: { web: web({ VERSION: "1" }) } })
    const sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    await untilUnit(sam, "services", "web", (s) => s.status === "running" && s.ready)
    // The new config fails at start: its first instance crashes, the second keeps its process.
    p.writeConfig({ services: { web: web({ VERSION: "2", EXIT_AT_START: "bad: no such model" }) } })
    const halted = await untilUnit<UnitBody & { rollout_halted: string | null }>(
      sam,
      "services",
      "web",
      (s) => s.rollout_halted !== null,
    )
    expect(halted.rollout_halted).toMatch(
      /^rollout halted: web#0 did not come up with the new config \(.*\); web#1 keeps its old process until it starts again$/,
    )
    const ps = await runSam(["ps"], { cwd: p.dir })
    // One of its two instances serves: READY says how many, as kubectl's does, and STATE that it
    // serves degraded (the instance rows say which is down and when it is retried).
    expect(ps.stdout).toMatch(/^web +service +process +degraded \(1 of 2 in backoff\) +1\/2 +2 /m)
    expect(ps.stdout).toMatch(/^ {2}web#0 +backoff, retry in /m)
    // The API and `sam ps --json` say it as a field: automation reads a unit that still serves.
    const json = JSON.parse((await runSam(["ps", "web", "--json"], { cwd: p.dir })).stdout) as Array<{
      state: string
      degraded: unknown
    }>
    expect(json[0]).toMatchObject({ state: "backoff", degraded: { down: 1, of: 2, state: "backoff" } })
    const served = await sam.api<{ degraded: unknown }>("GET", "/api/services/web")
    expect(served.body.degraded).toEqual({ down: 1, of: 2, state: "backoff" })
    // Under the table without the retry delay it was decided with: the STATE column counts down.
    expect(ps.stdout).toContain(
      "\nweb: rollout halted: web#0 did not come up with the new config (backoff: exited with code 1: bad: no such model); web#1 keeps its old process until it starts again\n",
    )
    // web#1 still runs: `restart all` (the running ones) takes web, though its worst instance is in backoff.
    const all = await runSam(["restart", "all"], { cwd: p.dir })
    expect(all.stdout).not.toContain("nothing to restart")
    expect(all.stdout).toMatch(/^web is /m)
    expect((await runSam(["stop", "web"], { cwd: p.dir })).code).toBe(0)
    const view = await sam.api<{ rollout_halted: string | null }>("GET", "/api/services/web")
    expect(view.body.rollout_halted).toBeNull()
    expect((await runSam(["ps"], { cwd: p.dir })).stdout).not.toContain("rollout halted")
  })
})
