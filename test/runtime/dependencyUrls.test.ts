import { afterEach, describe, expect, it } from "vitest"
import { freePort } from "../../src/runtime/freePort.ts"
import { fixturePath, type Project, project, untilUnit } from "../support/daemon.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

const readiness = { endpoint: "/health", interval_seconds: 1, kind: "readiness" }
const config = (dbMode: string, options: { dbPort?: number; dependencyRestart?: string } = {}) => ({
  services: {
    db: {
      deployment: {
        mode: "process",
        command: process.execPath,
        args: [fixturePath("http-service.mjs")],
        env: { MODE: dbMode },
        ...(options.dbPort === undefined ? {} : { port: options.dbPort }),
      },
      health_check: readiness,
    },
    // Healthy only while SAM_DB_URL answers.
    api: {
      deployment: { mode: "process", command: process.execPath, args: [fixturePath("dependent.mjs")] },
      depends_on: ["db"],
      dependency_restart: options.dependencyRestart ?? "restart",
      health_check: readiness,
    },
  },
})

describe("ports and dependency URLs are stable", () => {
  it("a reload that restarts a dependency keeps its port and restarts its dependent, whose SAM_DB_URL answers", async () => {
    p = project()
    p.writeConfig(config("a"))
    const sam = await p.start()
    await sam.waitForOutput("2/2 units ready")
    const db = await sam.api<{ pid: number; url: string }>("GET", "/api/services/db")
    const api = await sam.api<{ pid: number }>("GET", "/api/services/api")

    p.writeConfig(config("b"))
    const reloaded = await untilUnit(sam, "services", "db", (s) => s.pid !== db.body.pid && s.ready)
    expect(reloaded.pid).not.toBe(db.body.pid)
    expect((await sam.api<{ url: string }>("GET", "/api/services/db")).body.url).toBe(db.body.url)
    const dependent = await untilUnit(sam, "services", "api", (s) => s.pid !== api.body.pid && s.ready)
    expect(dependent.status).toBe("running")
  })

  it("a dependency's crash and its restart command both restart its dependent once it is ready", async () => {
    p = project()
    p.writeConfig(config("a"))
    const sam = await p.start()
    await sam.waitForOutput("2/2 units ready")
    const pidOf = async (id: string) =>
      (await sam.api<{ pid: number }>("GET", `/api/services/${id}`)).body.pid
    let apiPid = await pidOf("api")

    process.kill(await pidOf("db"), "SIGKILL")
    let next = await untilUnit(sam, "services", "api", (s) => s.pid !== apiPid && s.ready)
    apiPid = next.pid as number

    expect((await sam.api("POST", "/api/services/db/restart")).status).toBe(200)
    next = await untilUnit(sam, "services", "api", (s) => s.pid !== apiPid && s.ready)
    expect(next.status).toBe("running")
  })

  it("a reload that moves a dependency to another port restarts every dependent given the old address, even with dependency_restart: none", async () => {
    p = project()
    p.writeConfig(config("a", { dependencyRestart: "none" }))
    const sam = await p.start()
    await sam.waitForOutput("2/2 units ready")
    const api = await sam.api<{ pid: number }>("GET", "/api/services/api")

    // A change that keeps db's port leaves a dependent with dependency_restart: none alone.
    p.writeConfig(config("b", { dependencyRestart: "none" }))
    await sam.waitForOutput("restarted db")
    await untilUnit(sam, "services", "db", (s) => s.ready)
    expect((await sam.api<{ pid: number }>("GET", "/api/services/api")).body.pid).toBe(api.body.pid)

    const port = await freePort()
    p.writeConfig(config("b", { dbPort: port, dependencyRestart: "none" }))
    await sam.waitForOutput(
      new RegExp(`api: db moved from http://127\\.0\\.0\\.1:\\d+ to http://127\\.0\\.0\\.1:${port}`),
    )
    const dependent = await untilUnit(sam, "services", "api", (s) => s.pid !== api.body.pid && s.ready)
    expect(dependent.status).toBe("running")
    expect(dependent.restarts).toBe(1) // the move's, not the first reload's
  })
})
