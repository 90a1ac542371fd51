import { copyFileSync, readFileSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { runSam } from "../cli/runSam.ts"
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

  it("docs/GATEWAY.md's browser_isolation config: `sam validate` takes it, a sandboxed service and one in SAM's origin, and the Host rule", async () => {
    p = project("sam.yaml")
    writeFileSync(join(p.dir, "sam.yaml"), docBlock("docs/GATEWAY.md", "gateway-isolation"))
    copyFileSync(fixturePath("gateway-upstream.mjs"), join(p.dir, "server.mjs"))
    const validate = await runSam(["validate", "--config", "sam.yaml"], { cwd: p.dir })
    expect(validate.stderr).toBe("")
    expect(validate.stdout).toMatch(/^ok: /)
    expect(validate.code).toBe(0)

    const daemon = await p.start()
    await daemon.waitForOutput("units ready")
    const { url } = JSON.parse(readFileSync(join(p.stateDir, "api.json"), "utf8")) as { url: string }
    const notes = await fetch(`${url}/api/notes/page`)
    expect(notes.headers.get("content-security-policy")).toBe(
      "img-src 'self', sandbox allow-scripts allow-forms allow-popups allow-downloads allow-modals",
    )
    const trusted = await fetch(`${url}/api/console/page`)
    expect(trusted.status).toBe(200)
    expect(trusted.headers.get("content-security-policy")).toBe("img-src 'self'")

    // `sam start` on its default loopback address: another name for it is refused.
    const port = new URL(url).port
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/api/notes/whoami`, { headers: { host: `evil.example:${port}` } })
      req.on("response", (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
      req.on("error", reject)
      req.end()
    })
    expect(rebound).toBe(421)
    expect((await fetch(`http://localhost:${port}/api/notes/whoami`)).status).toBe(200)
  })
})
