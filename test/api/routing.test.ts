// Routing edges of the control API: a wrong method on a known path is 405 with `Allow` (never a
// 404), a path that is not valid percent-encoding is a 400 (never a 404 or a 500), unknown paths
// stay 404; all of them problems.
import { request } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { nodeService } from "../support/runtime.ts"
import { type ApiHarness, startApi, tokens } from "./apiHarness.ts"

let h: ApiHarness

beforeAll(async () => {
  h = await startApi([nodeService("db", "http-service.mjs")])
})

afterAll(async () => {
  expect(await h.close()).toEqual([])
  expect(h.errors).toEqual([])
})

/** A request with the path sent exactly as written (fetch would normalize some of them). */
const raw = (method: string, path: string) =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request(`${h.url}${path}`, {
        method,
        agent: false,
        headers: { authorization: `Bearer ${tokens.admin.token}`, connection: "close" },
      })
      req.on("response", (res) => {
        let text = ""
        res.on("data", (c) => {
          text += c
        })
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {} }),
        )
      })
      req.on("error", reject)
      req.end()
    },
  )

describe("a wrong method on a known path", () => {
  it("is 405 with the methods the path allows in Allow", async () => {
    const cases: Array<[string, string, string]> = [
      ["PUT", "/api/status", "GET, HEAD"],
      ["DELETE", "/api/services", "GET, HEAD"],
      ["GET", "/api/services/db/stop", "POST"],
      ["OPTIONS", "/api/agents", "GET, HEAD"],
      ["GET", "/api/config/reload", "POST"],
      ["POST", "/api/openapi.json", "GET, HEAD"],
    ]
    for (const [method, path, allow] of cases) {
      const answer = await raw(method, path)
      expect(answer.status, `${method} ${path}`).toBe(405)
      expect(answer.headers.allow, `${method} ${path}`).toBe(allow)
      expect(answer.headers["content-type"]).toBe("application/problem+json")
      expect(answer.body).toMatchObject({
        status: 405,
        detail: `${method} is not allowed on ${path}; it allows ${allow}`,
      })
    }
  })

  it("a path no route knows is still a 404", async () => {
    const answer = await raw("PUT", "/api/nowhere")
    expect(answer.status).toBe(404)
    expect(answer.headers.allow).toBeUndefined()
    expect(answer.body).toMatchObject({ detail: expect.stringContaining("no route PUT /api/nowhere") })
  })
})

describe("a path that is not valid percent-encoding", () => {
  it("is a 400 problem under every prefix, not a 404 or a 500", async () => {
    for (const path of [
      "/api/plugins/%E0%A4%A",
      "/api/plugins/kit/%E0%A4%A",
      "/api/services/%E0%A4%A/health",
      "/api/agents/%zz",
      "/api/%",
      "/%C3%28",
    ]) {
      const answer = await raw("GET", path)
      expect(answer.status, path).toBe(400)
      expect(answer.headers["content-type"]).toBe("application/problem+json")
      expect(answer.body).toMatchObject({ status: 400, detail: expect.stringContaining("percent-encoding") })
    }
    // Valid escapes still route.
    expect((await raw("GET", "/api/services/d%62/health")).status).toBe(200)
  })
})
