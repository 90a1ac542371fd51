import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project, untilUnit } from "../support/daemon.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

const readiness = { endpoint: "/health", interval_seconds: 1, kind: "readiness" }
const config = (dbMode: string) => ({
  services: {
    db: {
      deployment: {
        mode: "process",
        command: process.execPath,
        args: [fixturePath("http-service.mjs")],
        env: { MODE: dbMode },
      },
      health_check: readiness,
    },
    // Healthy only while SAM_DB_URL answers.
    api: {
      deployment: { mode: "process", command: process.execPath, args: [fixturePath("dependent.mjs")] },
      depends_on: ["db"],
      dependency_restart: "restart",
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
})
