import { readFile } from "node:fs/promises"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runSam } from "../cli/runSam.ts"
import { agentUnit, removeScratch } from "../support/agents.ts"
import { httpCheck, nodeService } from "../support/runtime.ts"
import { type ApiHarness, failureOf, startApi, tokens, withClient } from "./apiHarness.ts"

// POST /api/services/:id/scale and `sam scale <id> <n>` on a running SAM: the count changes and
// the answer is the service; a count outside 0..max_instances is a 422 naming the range; only
// operators may scale; every call is in the audit log.

let h: ApiHarness

beforeAll(async () => {
  h = await startApi([
    nodeService("web", "http-service.mjs", { maxInstances: 3, probes: [httpCheck({ intervalMs: 100 })] }),
    agentUnit("helper"),
  ])
})

afterAll(async () => {
  expect(await h.close()).toEqual([])
  removeScratch()
})

const ops = () => tokens.ops.token
const allReady = (n: number) =>
  h.sam.until("web", (s) => s.instances.length === n && s.instances.every((i) => i.ready), 20_000)

describe("scaling a service through the API", () => {
  it("answers the service with its new count, up and down", async () => {
    const up = await withClient(h.url, ops(), (c) =>
      c.services.scale({ params: { id: "web" }, payload: { instances: 3 } }),
    )
    expect(up).toMatchObject({ id: "web", instances: 3 })
    await allReady(3)
    const down = await withClient(h.url, ops(), (c) =>
      c.services.scale({ params: { id: "web" }, payload: { instances: 1 } }),
    )
    expect(down).toMatchObject({ id: "web", instances: 1, status: "running", ready: true })
    expect(h.sam.unitStatus("web").instances.map((i) => i.instance)).toEqual([0])
  })

  it("refuses a count outside 0..max_instances with a 422 naming the range", async () => {
    for (const instances of [4, -1]) {
      const problem = await failureOf(h.url, ops(), (c) =>
        c.services.scale({ params: { id: "web" }, payload: { instances } }),
      )
      expect(problem).toMatchObject({
        type: "urn:sam:problem:scale-out-of-range",
        status: 422,
        unit: "web",
        instances,
        min: 0,
        max: 3,
        detail: `cannot scale "web" to ${instances} instances: it may run 0 to 3 (scaling.max_instances); \`sam ps\` (GET /api/services/web) shows how many it runs`,
      })
    }
    // Not a whole number, or no count at all: the request itself is invalid.
    for (const body of ['{"instances":1.5}', "{}"]) {
      const response = await h.fetch("/api/services/web/scale", {
        as: "ops",
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      })
      expect(response.status, body).toBe(400)
    }
    expect(h.sam.unitStatus("web").instances).toHaveLength(1)
  })

  it("is for operators, and only for services that exist", async () => {
    const viewer = await failureOf(h.url, tokens.watcher.token, (c) =>
      c.services.scale({ params: { id: "web" }, payload: { instances: 2 } }),
    )
    expect(viewer).toMatchObject({ status: 403, required_role: "operator" })
    const typo = await failureOf(h.url, ops(), (c) =>
      c.services.scale({ params: { id: "wbe" }, payload: { instances: 2 } }),
    )
    expect(typo).toMatchObject({
      status: 404,
      detail: 'no service "wbe" (did you mean "web"?); GET /api/services lists them',
    })
    const agent = await failureOf(h.url, ops(), (c) =>
      c.services.scale({ params: { id: "helper" }, payload: { instances: 1 } }),
    )
    expect(agent).toMatchObject({
      status: 404,
      detail: '"helper" is an agent, not a service; GET /api/services lists them',
    })
  })

  it("records every scale in the audit log, with the count and how it ended", async () => {
    await h.audit.settled()
    const entries = (await readFile(h.audit.file, "utf8"))
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            actor: { name: string }
            action: string
            target: string
            result: string
            params?: { instances?: number }
          },
      )
      .filter((e) => e.action === "service.scale")
      .map((e) => `${e.actor.name} ${e.target} ${e.params?.instances ?? "-"} ${e.result}`)
    expect(entries).toEqual([
      "ops web 3 ok",
      "ops web 1 ok",
      "ops web 4 refused",
      "ops web -1 refused",
      "ops web - invalid",
      "ops web - invalid",
      "watcher web - denied",
      "ops wbe 2 not_found",
      "ops helper 1 not_found",
    ])
  })
})

describe("sam scale <id> <n>", () => {
  const env = () => ({ SAM_URL: h.url, SAM_TOKEN: tokens.ops.token })

  it("scales a service of the running SAM and says what it runs", async () => {
    const run = await runSam(["scale", "web", "2"], { env: env() })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(run.stdout).toMatch(/^web runs 2 instances; it is /)
    expect(h.sam.unitStatus("web").instances).toHaveLength(2)
    await allReady(2)
    const back = await runSam(["scale", "web", "1"], { env: env() })
    expect(back).toMatchObject({ code: 0, stdout: "web runs 1 instance; it is running and ready\n" })
  })

  it("a count out of range fails naming it (exit 1); a count that is no number is a usage error (exit 2)", async () => {
    const far = await runSam(["scale", "web", "9"], { env: env() })
    expect(far.code).toBe(1)
    expect(far.stderr).toContain(
      'cannot scale "web" to 9 instances: it may run 0 to 3 (scaling.max_instances)',
    )
    const word = await runSam(["scale", "web", "many"], { env: env() })
    expect(word.code).toBe(2)
    expect(word.stderr).toContain('<n> must be a whole number of instances (0 or more), found "many"')
  })
})
