// Demo service: a small JSON notes store over HTTP. At start it loads seed notes from the blob
// store it depends on (SAM injects SAM_BLOB_STORE_URL once blob-store is ready), so it shows a
// real dependency: without blob-store it cannot start.
import { createServer } from "node:http"

const blobs = process.env.SAM_BLOB_STORE_URL
if (!blobs) {
  console.error("notes-store: SAM_BLOB_STORE_URL is not set (blob-store must be ready first)")
  process.exit(1)
}
const seed = await fetch(`${blobs}/seed-notes.json`).then((r) => {
  if (!r.ok) throw new Error(`seed notes: HTTP ${r.status}`)
  return r.json()
})
const notes = new Map(seed.map((n) => [n.id, n]))
console.log(`notes-store: loaded ${notes.size} seed notes from ${blobs}`)

const send = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json" })
  res.end(JSON.stringify(body))
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost")
  if (url.pathname === "/health") return send(res, 200, { ok: true, notes: notes.size })
  if (url.pathname === "/notes" && req.method === "GET") return send(res, 200, [...notes.values()])
  if (url.pathname === "/notes" && req.method === "POST") {
    let body = ""
    req.setEncoding("utf8")
    req.on("data", (chunk) => {
      body += chunk
      if (body.length > 65_536) req.destroy()
    })
    req.on("end", () => {
      try {
        const note = JSON.parse(body)
        if (typeof note.text !== "string") return send(res, 400, { error: "text (string) is required" })
        const id = String(notes.size + 1)
        notes.set(id, { id, text: note.text })
        send(res, 201, notes.get(id))
      } catch {
        send(res, 400, { error: "body must be JSON" })
      }
    })
    return
  }
  send(res, 404, { error: `no route ${req.method} ${url.pathname}` })
})
server.listen(Number(process.env.PORT), "127.0.0.1", () =>
  console.log(`notes-store: listening on ${process.env.PORT}`),
)
const shutdown = () => server.close(() => process.exit(0))
process.on("SIGTERM", shutdown)
process.on("SIGINT", shutdown)
