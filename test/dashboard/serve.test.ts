// The dashboard's files as a browser gets them from SAM's port: the page revalidated on each load,
// hashed assets cached for good, both precompressed, a clear answer when something is missing.
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { brotliDecompressSync, gunzipSync } from "node:zlib"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadDashboardAssets } from "../../src/dashboard/dashboardAssets.ts"
import { dashboardServer } from "../../src/dashboard/serve.ts"

let server: Server
let url: string
const empty = mkdtempSync(join(tmpdir(), "sam-dashboard-"))

beforeAll(async () => {
  const dashboard = dashboardServer()
  const unbuilt = dashboardServer({ dir: empty })
  server = createServer((req, res) => {
    const served = req.url?.startsWith("/unbuilt")
      ? unbuilt.serve(Object.assign(req, { url: req.url.slice("/unbuilt".length) || "/" }), res)
      : dashboard.serve(req, res)
    if (!served) res.writeHead(418).end("not the dashboard's")
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  rmSync(empty, { recursive: true, force: true })
})

const raw = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
    (resolve, reject) => {
      // node:http, not fetch: fetch would decompress the body and hide what was sent.
      import("node:http").then(({ request }) => {
        const req = request(`${url}${path}`, { method, headers }, (res) => {
          const chunks: Buffer[] = []
          res.on("data", (c: Buffer) => chunks.push(c))
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          )
        })
        req.on("error", reject)
        req.end()
      }, reject)
    },
  )

describe("serving the dashboard", () => {
  const assets = loadDashboardAssets()

  it("is built, with a page and hashed script and stylesheet", () => {
    expect(assets).toBeDefined()
    const paths = [...(assets?.files.keys() ?? [])]
    expect(paths).toContain("/index.html")
    expect(paths.some((p) => /^\/assets\/index-[\w-]+\.js$/.test(p))).toBe(true)
    expect(paths.some((p) => /^\/assets\/index-[\w-]+\.css$/.test(p))).toBe(true)
  })

  it("answers / with the page: HTML, revalidated, its own CSP, brotli when accepted", async () => {
    const page = await raw("/", { "accept-encoding": "gzip, deflate, br" })
    expect(page.status).toBe(200)
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8")
    expect(page.headers["cache-control"]).toBe("no-cache")
    expect(page.headers["content-encoding"]).toBe("br")
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'")
    expect(page.headers["x-frame-options"]).toBe("DENY")
    const html = brotliDecompressSync(page.body).toString()
    expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/)
    const again = await raw("/", { "if-none-match": String(page.headers.etag) })
    expect(again.status).toBe(304)
    expect(again.body.length).toBe(0)
  })

  it("answers assets immutable, gzip for a browser without brotli, plain for one without either", async () => {
    const script = [...(assets?.files.keys() ?? [])].find((p) => p.endsWith(".js")) as string
    const gz = await raw(script, { "accept-encoding": "gzip" })
    expect(gz.headers["content-type"]).toBe("text/javascript; charset=utf-8")
    expect(gz.headers["cache-control"]).toBe("public, max-age=31536000, immutable")
    expect(gz.headers.vary).toBe("accept-encoding")
    expect(gz.headers["content-encoding"]).toBe("gzip")
    const plain = await raw(script, { "accept-encoding": "br;q=0" })
    expect(plain.headers["content-encoding"]).toBeUndefined()
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true)
    expect(Number(plain.headers["content-length"])).toBe(plain.body.length)
    const head = await raw(script, {}, "HEAD")
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
  })

  it("answers an unknown asset 404 and an unbuilt dashboard 503, each saying what to do", async () => {
    const missing = await raw("/assets/index-gone.js")
    expect(missing.status).toBe(404)
    expect(JSON.parse(missing.body.toString()).detail).toContain("reload it")
    const unbuilt = await raw("/unbuilt/")
    expect(unbuilt.status).toBe(503)
    expect(JSON.parse(unbuilt.body.toString()).detail).toContain("npm run build")
  })

  it("leaves every other path and method to the API", async () => {
    expect((await raw("/api/status")).status).toBe(418)
    expect((await raw("/", {}, "POST")).status).toBe(418)
    expect((await raw("/favicon.ico")).status).toBe(418)
  })
})
