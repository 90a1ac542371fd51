// While SAM stops, the control API keeps answering from what SAM knows until it closes: no
// request meets the runtime store or the log already closed (a 500), only refused connections.
import { afterAll, expect, it } from "vitest"
import { authHeaders, fixturePath, type Project, project } from "../support/daemon.ts"

let p: Project | undefined
afterAll(async () => {
  expect(await p?.cleanup()).toEqual([])
})

it("answers every request without a 5xx from the first answer until it has stopped", async () => {
  p = project()
  const service = { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] }
  p.writeConfig({
    services: {
      db: { deployment: service, health_check: { endpoint: "/health", interval_seconds: 1 } },
      api: { deployment: service, depends_on: ["db"] },
    },
  })
  const sam = await p.start()
  await sam.waitForOutput("press Ctrl+C")
  const url = (/control API on (http:\/\/\S+)/.exec(sam.output())?.[1] ?? "").replace(/\/$/, "")
  const headers = authHeaders(p.stateDir)
  const paths = ["/api/services/db", "/api/status", "/api/services", "/api/crashes", "/api/groups"]
  const failed: string[] = []
  let answered = 0
  let polling = true
  const poll = async (path: string) => {
    while (polling) {
      const response = await fetch(`${url}${path}`, { headers }).catch(() => undefined)
      if (response === undefined) return // refused: the API has closed
      if (response.status >= 500) failed.push(`${response.status} ${path}: ${await response.text()}`)
      else await response.arrayBuffer()
      answered++
    }
  }
  const polls = paths.map(poll)
  // Some answers while running, then the stop lands among requests in flight.
  const before = answered
  while (answered < before + 20) await new Promise((r) => setImmediate(r))
  sam.child.kill("SIGTERM")
  expect(await sam.exited).toBe(0)
  polling = false
  await Promise.all(polls)
  expect(failed).toEqual([])
}, 60_000)
