// `watch` as operators meet it: `sam start` says what it watches and restarts a service whose
// file is edited (the reason in its output and in the transitions on the API's event stream), and `sam validate` refuses a
// watched path that does not exist.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { authHeaders, projectPerTest, untilUnit } from "../support/daemon.ts"
import { runSam } from "./runSam.ts"

const newProject = projectPerTest()

const server = (version: number) => `console.log("v${version}")
setInterval(() => {}, 1 << 30)
`

/** Saved as editors save: a temp file moved over the old one. */
const save = (file: string, text: string) => {
  writeFileSync(`${file}.tmp`, text)
  renameSync(`${file}.tmp`, file)
}

interface BusEvent {
  readonly type: string
  readonly unit?: string
  readonly from?: string
  readonly to?: string
  readonly reason?: string
}

/** The last `n` events SAM holds, from the snapshot that opens its event stream. */
const recentEvents = async (stateDir: string, n: number): Promise<ReadonlyArray<BusEvent>> => {
  const { url } = JSON.parse(readFileSync(join(stateDir, "api.json"), "utf8")) as { url: string }
  const abort = new AbortController()
  const response = await fetch(`${url}/api/events?recent=${n}`, {
    headers: authHeaders(stateDir),
    signal: abort.signal,
  })
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let text = ""
  try {
    for (;;) {
      const snapshot = /event: snapshot\ndata: (.*)\n\n/.exec(text)
      if (snapshot) return (JSON.parse(snapshot[1] as string) as { recent: ReadonlyArray<BusEvent> }).recent
      const { done, value } = await reader.read()
      if (done) throw new Error(`the event stream ended before its snapshot:\n${text}`)
      text += decoder.decode(value, { stream: true })
    }
  } finally {
    abort.abort()
  }
}

describe("sam start with watch", () => {
  it("restarts a service when its file is edited, and says why", async () => {
    const p = newProject()
    writeFileSync(join(p.dir, "server.mjs"), server(1))
    p.writeConfig({
      services: {
        web: {
          deployment: { mode: "process", command: process.execPath, args: ["server.mjs"] },
          watch: { debounce_ms: 100 },
        },
      },
    })
    const daemon = await p.start()
    await daemon.waitForOutput("1/1 units ready")
    expect(daemon.output()).toContain("sam: watch: web (.) restart when their files change")
    const first = await untilUnit(daemon, "services", "web", (s) => s.ready)

    save(join(p.dir, "server.mjs"), server(2))
    await daemon.waitForOutput("   web: its files changed (server.mjs); restarting it\n")
    const second = await untilUnit(daemon, "services", "web", (s) => s.ready && s.pid !== first.pid)
    expect(second.restarts).toBe(1)

    const restart = (await recentEvents(p.stateDir, 100)).filter(
      (e) => e.type === "transition" && e.unit === "web" && e.reason === "its files changed (server.mjs)",
    )
    expect(restart.map((e) => `${e.from}->${e.to}`)).toEqual([
      "running.ready->stopping",
      "stopping->starting",
    ])
  })
})

describe("sam validate with watch", () => {
  it("names the unit and the path when a watched path does not exist (exit 2)", async () => {
    const p = newProject()
    mkdirSync(join(p.dir, "src"))
    p.writeConfig({
      services: {
        web: {
          deployment: { mode: "process", command: process.execPath, args: ["src/server.mjs"] },
          watch: { paths: ["src", "lib"] },
        },
      },
    })
    const run = await runSam(["validate", "--config", "sam.config.json"], { cwd: p.dir })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      `services.web.watch.paths[1]: ${join(p.dir, "lib")} does not exist, so there is nothing to watch; create it or change services.web.watch.paths`,
    )
  })
})
