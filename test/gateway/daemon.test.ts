import { copyFileSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project } from "../support/daemon.ts"
import { docBlock } from "../support/docBlock.ts"
import { eventually } from "../support/gateway.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

describe("the gateway under `sam start`", () => {
  it("serves docs/GATEWAY.md's config: two balanced instances with rate limit headers, one started on demand", async () => {
    p = project("sam.yaml")
    writeFileSync(join(p.dir, "sam.yaml"), docBlock("docs/GATEWAY.md", "gateway-config"))
    copyFileSync(fixturePath("gateway-upstream.mjs"), join(p.dir, "server.mjs"))
    const daemon = await p.start()
    await daemon.waitForOutput("units ready")
    const { url } = JSON.parse(readFileSync(join(p.stateDir, "api.json"), "utf8")) as { url: string }

    const seen = new Set<string>()
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${url}/api/notes/whoami`)
      expect(response.status).toBe(200)
      expect(response.headers.get("ratelimit-policy")).toBe('"notes";q=100;w=2')
      seen.add(String(((await response.json()) as { instance: string }).instance))
    }
    expect([...seen].sort()).toEqual(["0", "1"])

    const state = async () =>
      (await daemon.api<{ status: string }>("GET", "/api/services/vectors")).body.status
    expect(await state()).toBe("stopped")
    const vectors = await fetch(`${url}/api/vectors/whoami`)
    expect(vectors.status).toBe(200)
    expect(await state()).toBe("running")
    await eventually(async () => (await state()) === "stopped", 15_000)

    // What went through the gateway is in /metrics and in the unit's request-rate history.
    const token = readFileSync(join(p.stateDir, "token"), "utf8").trim()
    const scrape = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    expect(scrape.status).toBe(200)
    const text = await scrape.text()
    expect(text).toMatch(/^sam_gateway_requests_total\{[^}]*service="notes"[^}]*code_class="2xx"[^}]*\} 4$/m)
    expect(text).toMatch(/^sam_gateway_requests_total\{[^}]*service="vectors"[^}]*\} 1$/m)
    expect(text).toMatch(/^sam_gateway_request_duration_seconds_count\{[^}]*service="notes"[^}]*\} 4$/m)
    // (Sampled every 5 s: the first sample after the requests counts them.)
    await eventually(async () => {
      const history = await daemon.api<{ series: { requests_per_second: Array<[number, number]> } }>(
        "GET",
        "/api/services/notes/metrics",
      )
      return history.body.series.requests_per_second.some(([, v]) => v > 0)
    }, 15_000)
  })
})
