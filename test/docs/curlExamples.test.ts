import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project, untilUnit } from "../support/daemon.ts"
import { docBlock } from "../support/docBlock.ts"

// docs/API.md's curl examples, each run as written (continuation lines joined) against a real
// `sam start` with the units they name: a `qdrant` service and an agent offering
// `text_summarization` (the repo's summaryAgent). Only the address changes (the test's port, not
// 7070); a curlrc makes every call fail on an HTTP error and bounds the event stream's.

const repo = fileURLToPath(new URL("../..", import.meta.url))
let p: Project | undefined
let curlHome = ""
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  if (curlHome) rmSync(curlHome, { recursive: true, force: true })
  expect(left ?? []).toEqual([])
})

/** The block's commands: `\`-continued lines joined, comments and blank lines dropped. */
const commands = (block: string): string[] =>
  block
    .replace(/\\\n\s*/g, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))

describe("docs/API.md's curl examples", () => {
  it("each answers as the docs say against a running SAM", async () => {
    p = project()
    p.writeConfig({
      services: {
        qdrant: {
          deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
          health_check: { endpoint: "/health", interval_seconds: 0.2, kind: "readiness" },
        },
      },
      agents: {
        summaryAgent: { path: join(repo, "agents", "summary"), capabilities: ["text_summarization"] },
      },
    })
    const daemon = await p.start()
    await daemon.waitForOutput("2/2 units ready")
    const { url } = JSON.parse(readFileSync(join(p.stateDir, "api.json"), "utf8")) as { url: string }
    const token = readFileSync(join(p.stateDir, "token"), "utf8").trim()
    curlHome = mkdtempSync(join(tmpdir(), "sam-curl-"))
    writeFileSync(join(curlHome, ".curlrc"), "fail-with-body\nsilent\nshow-error\nmax-time = 3\n")

    const [exported, ...calls] = commands(docBlock("docs/API.md", "curl-examples"))
    expect(exported).toMatch(/^export SAM_TOKEN=/)
    const outputs = calls.map((command) => {
      const run = spawnSync("sh", ["-c", command.replaceAll("http://127.0.0.1:7070", url)], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", CURL_HOME: curlHome, SAM_TOKEN: token },
      })
      return { command, code: run.status, stdout: run.stdout, stderr: run.stderr }
    })
    expect(outputs.map((o) => o.command.split(" ").at(-1))).toEqual([
      "http://127.0.0.1:7070/api/status",
      "'http://127.0.0.1:7070/api/agents?status=ready&capability=text_summarization'",
      "http://127.0.0.1:7070/api/services/qdrant/stop",
      "http://127.0.0.1:7070/api/capabilities/text_summarization/invoke",
      "http://127.0.0.1:7070/api/events",
    ])
    const [status, agents, stop, invoke, events] = outputs as [
      (typeof outputs)[0],
      (typeof outputs)[0],
      (typeof outputs)[0],
      (typeof outputs)[0],
      (typeof outputs)[0],
    ]
    for (const ok of [status, agents, stop, invoke])
      expect(ok, ok.command).toMatchObject({ code: 0, stderr: "" })
    expect(JSON.parse(status.stdout)).toMatchObject({ services: { total: 1 }, agents: { total: 1 } })
    expect((JSON.parse(agents.stdout) as { agents: Array<{ id: string }> }).agents.map((a) => a.id)).toEqual([
      "summaryAgent",
    ])
    expect(JSON.parse(stop.stdout)).toMatchObject({ id: "qdrant", status: "stopped" })
    expect(JSON.parse(invoke.stdout)).toMatchObject({ agent: "summaryAgent", output: { summary: "..." } })
    // The stream goes on until curl's max-time (exit 28): a snapshot came first.
    expect(events.code).toBe(28)
    expect(events.stdout).toMatch(/^retry: 2000\n\nid: \d+\nevent: snapshot\ndata: \{/)
    await untilUnit(daemon, "services", "qdrant", (s) => s.status === "stopped")
  })
})
