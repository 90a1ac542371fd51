// What answers on SAM's address is not SAM's control API, or breaks off: a text or HTML page, JSON
// that does not parse or has another shape, a body cut short, a connection reset. `sam ps` and
// `sam status` each say so in one line naming the URL (exit 1), never with a stack trace, whether
// the address came from SAM_URL or from the api.json a SAM records in its state dir.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runSam } from "./runSam.ts"

type Answer = (req: IncomingMessage, res: ServerResponse) => void

const json =
  (body: string, status = 200): Answer =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "application/json" })
    res.end(body)
  }

/** What the garbage server answers, by the name of the case (the first segment of its path). */
const answers: Record<string, Answer> = {
  text: (_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" })
    res.end("hello")
  },
  html: (_req, res) => {
    res.writeHead(200, { "content-type": "text/html" })
    res.end("<!doctype html>\n<html>\n<body>It works!</body>\n</html>\n")
  },
  badGateway: (_req, res) => {
    res.writeHead(502, { "content-type": "text/html" })
    res.end("<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>\n")
  },
  badJson: json('{"services": [{"id": '),
  wrongShape: json('{"hello": "world", "services": [{"id": 7}], "agents": "none"}'),
  nullJson: json("null"),
  cutShort: (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "4000" })
    res.write('{"services": [')
    setTimeout(() => res.socket?.destroy(), 20)
  },
  reset: (req) => req.socket.resetAndDestroy(),
  hangUp: (req) => req.socket.destroy(),
}

/** The one line each case says after `sam: `, the server's URL for <url>. */
const says: Record<string, RegExp> = {
  text: /^what answered GET \/api\/\w+ at <url> is not SAM's control API \(HTTP 200, text\/plain: "hello"\): another program may hold that port; point the CLI at SAM with --url or SAM_URL$/,
  html: /^what answered GET \/api\/\w+ at <url> is not SAM's control API \(HTTP 200, text\/html: "<!doctype html>\\n<html>\\n<body>It works!<\/body>\\n<\/html>"\): /,
  badGateway:
    /^what answered GET \/api\/\w+ at <url> is not SAM's control API \(HTTP 502, text\/html: "<html>\\n<head><title>502 Bad Gateway/,
  badJson:
    /^what answered GET \/api\/\w+ at <url> is not SAM's control API \(HTTP 200, application\/json: "\{\\"services\\": \[\{\\"id\\":"\): /,
  wrongShape:
    /^what answered GET \/api\/\w+ at <url> is not SAM's control API \(HTTP 200, application\/json: (services\[0\]\.id is a number, not a string|agents is a string, not an array|version is missing)\): another program may hold that port, or a SAM of another version than this CLI; point the CLI at SAM with --url or SAM_URL$/,
  nullJson:
    /^what answered GET \/api\/\w+ at <url> is not SAM's control API \(HTTP 200, application\/json: the answer is null, not an object\): /,
  cutShort:
    /^the answer to GET \/api\/\w+ from <url> was cut short \(HTTP 200, the connection closed after 14 of 4000 bytes\): SAM may have stopped while answering$/,
  reset:
    /^what listens at <url> closed the connection without answering GET \/api\/\w+ \(read ECONNRESET\): it may not be SAM; point the CLI at SAM with --url or SAM_URL$/,
  hangUp:
    /^what listens at <url> closed the connection without answering GET \/api\/\w+ \(socket hang up\): /,
}

let server: Server
let base = ""
let dir = ""

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sam-malformed-"))
  server = createServer((req, res) => {
    const name = req.url?.split("/")[1] ?? ""
    const answer = answers[name]
    if (answer === undefined) {
      res.writeHead(404)
      res.end()
    } else answer(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

/** A state dir whose api.json records `url` for a SAM that runs (this test's own pid). */
const recording = (name: string, url: string): string => {
  const stateDir = join(dir, name)
  mkdirSync(stateDir, { mode: 0o700 })
  writeFileSync(join(stateDir, "api.json"), JSON.stringify({ url, pid: process.pid, startedAt: "now" }))
  return stateDir
}

const expectOneLine = (run: { code: number | null; stdout: string; stderr: string }, line: RegExp) => {
  expect(run.code).toBe(1)
  expect(run.stdout).toBe("")
  expect(run.stderr).toMatch(/^sam: [^\n]+\n$/)
  expect(run.stderr).not.toMatch(/\w+Error\b|\n\s+at /)
  expect(run.stderr.slice("sam: ".length, -1)).toMatch(line)
}

describe("an answer that is not SAM's control API", () => {
  for (const name of Object.keys(answers))
    it(`${name}: one line naming the URL, through SAM_URL and through a recorded api.json`, async () => {
      const url = `${base}/${name}`
      const line = new RegExp(says[name]!.source.replaceAll("<url>", url.replaceAll(".", "\\.")))
      const stateDir = recording(name, url)
      const runs = await Promise.all([
        runSam(["ps"], { cwd: dir, env: { SAM_URL: url } }),
        runSam(["status"], { cwd: dir, env: { SAM_URL: url } }),
        runSam(["ps"], { cwd: dir, env: { SAM_STATE_DIR: stateDir } }),
        runSam(["status"], { cwd: stateDir, env: { SAM_STATE_DIR: stateDir } }),
      ])
      for (const run of runs) expectOneLine(run, line)
    })

  it("an address that is no http(s) URL is named with where it came from", async () => {
    const typed = await runSam(["ps"], { cwd: dir, env: { SAM_URL: "localhost:7070" } })
    expectOneLine(typed, /^SAM_URL is not an http:\/\/ or https:\/\/ URL: "localhost:7070"$/)
    const flag = await runSam(["status", "--url", "not a url"], { cwd: dir })
    expectOneLine(flag, /^--url is not an http:\/\/ or https:\/\/ URL: "not a url"$/)
    const stateDir = recording("ftp", "ftp://127.0.0.1:21")
    const recorded = await runSam(["ps"], { cwd: dir, env: { SAM_STATE_DIR: stateDir } })
    expectOneLine(
      recorded,
      new RegExp(
        `^the address recorded in ${join(stateDir, "api.json")} is not an http:// or https:// URL: "ftp://127\\.0\\.0\\.1:21"$`,
      ),
    )
  })
})
