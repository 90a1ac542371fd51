// Logs and crash reports with the real daemon (`sam start` in a child process), the real `sam`
// CLI and the control API: stdout and stderr lines reach `sam logs` (filtered by --grep, --since,
// --stream), `-f` streams new ones across a restart, the API answers JSON and SSE (resumed with
// Last-Event-ID), an agent's ctx.logger lines are in its log at every level, and a crashing unit
// yields a crash report with its last stderr line and exit code.
import { type ChildProcess, spawn } from "node:child_process"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { Sse } from "effect/encoding"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { repoRoot, runSam } from "../cli/runSam.ts"
import { authHeaders, type Daemon, fixturePath, type Project, project, untilUnit } from "../support/daemon.ts"

const EADDRINUSE = "Error: listen EADDRINUSE: address already in use 127.0.0.1:8080"
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

let proj: Project
let daemon: Daemon
let url = ""

const node = (script: string, env: Record<string, string> = {}) => ({
  mode: "process",
  command: process.execPath,
  args: [fixturePath(script)],
  env,
})

beforeAll(async () => {
  proj = project()
  proj.writeConfig({
    api: { port: 0 },
    runtime: { log_level: "info" },
    services: {
      web: {
        deployment: node("chatty.mjs"),
        health_check: { endpoint: "/health", interval_seconds: 0.2 },
        scaling: { max_instances: 2 },
      },
      // Says why on stderr and exits 1, once (never restarted).
      crasher: {
        deployment: node("exit.mjs", { EXIT_MESSAGE: EADDRINUSE, EXIT_CODE: "1", EXIT_AFTER_MS: "200" }),
        restart_policy: "never",
      },
    },
    agents: { talker: { path: fixturePath("agents/logger"), capabilities: ["say", "fail"] } },
  })
  daemon = await proj.start()
  await daemon.waitForOutput("units ready")
  url = (JSON.parse(readFileSync(join(proj.stateDir, "api.json"), "utf8")) as { url: string }).url
})

afterAll(async () => {
  expect(await proj.cleanup()).toEqual([])
})

const sam = (args: ReadonlyArray<string>) => runSam(args, { cwd: proj.dir })

/** Resolves once `sam logs` prints what `check` wants (polled: the daemon writes asynchronously). */
const untilLogs = async (args: ReadonlyArray<string>, check: (out: string) => boolean) => {
  const deadline = Date.now() + 15_000
  for (;;) {
    const run = await sam(["logs", ...args])
    if (run.code === 0 && check(run.stdout)) return run
    if (Date.now() > deadline)
      throw new Error(
        `sam logs ${args.join(" ")} never printed the awaited lines:\n${run.stdout}${run.stderr}`,
      )
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A running child printing to us, with a way to wait for what it printed. */
const spawnSam = (
  args: ReadonlyArray<string>,
): {
  child: ChildProcess
  out: () => string
  until: (re: RegExp) => Promise<void>
  exited: Promise<number | null>
} => {
  const child = spawn(process.execPath, [join(repoRoot, "src", "cli", "main.ts"), ...args], {
    cwd: proj.dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let text = ""
  const waiters = new Set<() => void>()
  child.stdout?.on("data", (chunk: Buffer) => {
    text += chunk.toString()
    for (const w of waiters) w()
  })
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  return {
    child,
    out: () => text,
    exited,
    until: (re) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!re.test(text)) return
          waiters.delete(check)
          resolve()
        }
        waiters.add(check)
        check()
        void exited.then(() => {
          if (waiters.delete(check)) reject(new Error(`exited before printing ${re}:\n${text}`))
        })
      }),
  }
}

describe("sam logs", () => {
  it("shows a unit's stdout and stderr lines; --stream, --grep, --since and --json filter and shape them", async () => {
    const run = await untilLogs(["web"], (out) => /tick 2/.test(out))
    expect(run.stdout).toMatch(/^hello from web pid \d+$/m)
    expect(run.stdout).toContain("warning: web has something to say on stderr")
    const stderr = await sam(["logs", "web", "--stream", "stderr"])
    expect(stderr.stdout.trim().split("\n")).toEqual(["warning: web has something to say on stderr"])
    const grep = await sam(["logs", "web", "--grep", "^tick [12]$"])
    expect(grep.stdout).toBe("tick 1\ntick 2\n")
    expect((await sam(["logs", "web", "--since", "10m", "-n", "1"])).stdout).toMatch(/^tick \d+\n$/)
    expect((await sam(["logs", "web", "--since", "2999-01-01T00:00:00Z"])).stdout).toBe("")
    const json = await sam(["logs", "web", "--json", "--grep", "structured"])
    expect(JSON.parse(json.stdout)).toMatchObject({
      unit: "web",
      instance: 0,
      stream: "stdout",
      seq: expect.any(Number),
      fields: { level: "info", msg: "structured" },
    })
    const bad = await sam(["logs", "web", "--since", "yesterday"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(
      '--since: expected a duration such as 10m, 1h30m or 2d, or an ISO time, found "yesterday"',
    )
    // SAM matches --grep with RE2 (linear in the line: nested repeats are fine); it refuses what
    // RE2 has no syntax for, and the command exits 2 naming the option, as for --since.
    expect((await sam(["logs", "web", "--grep", "^(tick )+\\d$"])).stdout).toMatch(/^tick \d+\n/)
    const lookahead = await sam(["logs", "web", "--grep", "tick(?= 1)"])
    expect(lookahead.code).toBe(2)
    expect(lookahead.stderr).toContain(
      "--grep: not a regular expression (RE2 syntax): invalid or unsupported Perl syntax: `(?=`; RE2 has no lookahead or lookbehind",
    )
  })

  it("prefixes each unit like Compose with several ids or none, and names a typo", async () => {
    await untilLogs(
      [],
      // web may scale (max_instances 2): its instance is web#0 from the start, a stable name.
      (out) => /^crasher +\| Error: listen EADDRINUSE/m.test(out) && /^web#0 +\| tick/m.test(out),
    )
    const typo = await sam(["logs", "wbe"])
    expect(typo.code).toBe(1)
    expect(typo.stderr).toContain('sam: no agent or service "wbe" (did you mean "web"?)')
  })

  it("-f prints new lines as they come and keeps following across a restart of the unit", async () => {
    const follower = spawnSam(["logs", "-f", "-n", "1", "web"])
    try {
      await follower.until(/tick \d+\n[\s\S]*tick \d+\n/)
      const before = (await untilUnit(daemon, "services", "web", (s) => s.ready)).pid
      expect((await sam(["restart", "web"])).code).toBe(0)
      const after = (await untilUnit(daemon, "services", "web", (s) => s.ready && s.pid !== before)).pid
      await follower.until(new RegExp(`hello from web pid ${after}\\n[\\s\\S]*tick 1\\n`))
      expect(follower.out()).not.toContain(`hello from web pid ${before}`)
    } finally {
      follower.child.kill("SIGINT")
    }
    expect(await follower.exited).toBe(0)
  })

  it("an agent's ctx.logger lines are in its log from SAM's log level (info) up, each with its level", async () => {
    const said = await daemon.api("POST", "/api/capabilities/say/invoke", { input: { text: "hi" } })
    expect(said.status).toBe(200)
    const run = await untilLogs(["talker"], (out) => out.includes("error: hi"))
    // With the other units, prefixed.
    expect((await sam(["logs", "talker", "web"])).stdout).toMatch(/^talker \| info: hi$/m)
    expect(run.stdout).not.toContain("debug: hi")
    expect(run.stdout).toContain("info: hi\n")
    expect(run.stdout).toContain("warn: warn: hi\n")
    expect((await sam(["logs", "talker", "--stream", "stderr"])).stdout).not.toContain("info: hi")
    const json = await sam(["logs", "talker", "--json", "--grep", "^warn: warn: hi$"])
    expect(JSON.parse(json.stdout)).toMatchObject({
      stream: "stderr",
      line: "warn: warn: hi",
      fields: { level: "warn" },
    })
    const api = await daemon.api<{ lines: ReadonlyArray<{ line: string; fields?: object }> }>(
      "GET",
      "/api/agents/talker/logs?grep=hi$",
    )
    expect(api.body.lines.map((l) => [l.line, l.fields])).toEqual([
      ["info: hi", { level: "info" }],
      ["warn: warn: hi", { level: "warn" }],
      ["error: error: hi", { level: "error" }],
    ])
  })

  it("a handler that throws is in the agent's log with its stack, besides the caller's answer", async () => {
    const failed = await daemon.api<{ detail: string; code?: string }>(
      "POST",
      "/api/capabilities/fail/invoke",
      {
        input: {},
      },
    )
    expect(failed.status).toBe(502)
    expect(failed.body).toMatchObject({
      detail: 'capability "fail" failed: kaboom (code E_KABOOM)',
      code: "E_KABOOM",
    })
    const run = await untilLogs(["talker"], (out) => out.includes('capability "fail" failed: Error: kaboom'))
    expect(run.stdout).toMatch(/capability "fail" failed: Error: kaboom\n\s+at /)
    // With several units, each line of the record (the stack's too) says whose it is: no line of
    // one unit can read as another's.
    const all = await untilLogs(["talker", "web"], (out) => out.includes("kaboom"))
    const stack = all.stdout.split("\n").filter((l) => /^\s*at |\| +at /.test(l))
    expect(stack.length).toBeGreaterThan(0)
    for (const l of stack) expect(l).toMatch(/^talker +\| +at /)
  })

  it("keeps each unit's log in <state_dir>/logs/<id>.log, readable only by SAM's user, apart from sam.log", () => {
    const dir = join(proj.stateDir, "logs")
    expect(readdirSync(dir).sort()).toEqual(expect.arrayContaining(["crasher.log", "talker.log", "web.log"]))
    expect(statSync(join(dir, "web.log")).mode & 0o777).toBe(0o600)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    // SAM's own log has the transitions, not the units' output.
    const own = readFileSync(join(proj.stateDir, "sam.log"), "utf8")
    expect(own).toContain('"unit":"web"')
    expect(own).not.toContain("tick 1")
  })
})

/** The frames of an SSE response until `enough` says stop (or `timeoutMs`). */
const sseFrames = async (
  path: string,
  headers: Record<string, string>,
  enough: (frames: ReadonlyArray<{ event: string; id: string | undefined; data: string }>) => boolean,
) => {
  const abort = new AbortController()
  const frames: Array<{ event: string; id: string | undefined; data: string }> = []
  const timer = setTimeout(() => abort.abort(), 15_000)
  const parser = Sse.makeParser((event) => {
    if (event._tag !== "Event") return
    frames.push({ event: event.event, id: event.id, data: event.data })
    if (enough(frames)) abort.abort()
  })
  try {
    const response = await fetch(`${url}${path}`, {
      headers: { ...headers, ...authHeaders(proj.stateDir) },
      signal: abort.signal,
    })
    expect(response.headers.get("content-type")).toContain("text/event-stream")
    const decoder = new TextDecoder()
    for await (const chunk of response.body ?? []) parser.feed(decoder.decode(chunk, { stream: true }))
  } catch (error) {
    if (!abort.signal.aborted) throw error
  } finally {
    clearTimeout(timer)
  }
  return frames
}

describe("the logs API", () => {
  it("GET /api/services/:id/logs answers { id, lines, last_seq }; unknown ids get a did-you-mean", async () => {
    const { status, body } = await daemon.api<{
      id: string
      lines: Array<Record<string, unknown>>
      last_seq: number
    }>("GET", "/api/services/web/logs?lines=2&stream=stdout")
    expect(status).toBe(200)
    expect(body.id).toBe("web")
    expect(body.lines).toHaveLength(2)
    expect(body.lines[1]).toEqual({
      seq: expect.any(Number),
      time: expect.stringMatching(/^\d{4}-/),
      instance: 0,
      stream: "stdout",
      line: expect.stringMatching(/^tick \d+$/),
    })
    expect(body.last_seq).toBeGreaterThanOrEqual(body.lines[1]?.seq as number)
    const missing = await daemon.api<{ detail: string }>("GET", "/api/services/wbe/logs")
    expect(missing.status).toBe(404)
    expect(missing.body.detail).toContain('no service "wbe" (did you mean "web"?)')
    const wrongKind = await daemon.api<{ detail: string }>("GET", "/api/agents/web/logs")
    expect(wrongKind.status).toBe(404)
    expect(wrongKind.body.detail).toContain('"web" is a service, not an agent')
    const agent = await daemon.api<{ lines: unknown[] }>("GET", "/api/agents/talker/logs")
    expect(agent.status).toBe(200)
    const badGrep = await daemon.api<{ detail: string }>(
      "GET",
      `/api/services/web/logs?grep=${encodeURIComponent("(")}`,
    )
    expect(badGrep.status).toBe(400)
    expect(badGrep.body.detail).toContain("grep: not a regular expression")
    // Every problem of a query is listed at once, under `query` as the schema's own are.
    type Problem = { detail: string; errors: Array<{ path: string[]; message: string }> }
    const both = await daemon.api<Problem>(
      "GET",
      `/api/services/web/logs?grep=${encodeURIComponent("(a)\\1")}&lines=-5&since=yesterday`,
    )
    expect(both.status).toBe(400)
    expect(both.body.errors.map((e) => e.path.join("."))).toEqual([
      "query.lines",
      "query.since",
      "query.grep",
    ])
    expect(both.body.errors.find((e) => e.path[1] === "grep")?.message).toContain(
      "RE2 has no back-references",
    )
    // An instance number the unit can never run is refused, naming the ones it has.
    const beyond = await daemon.api<Problem>("GET", "/api/services/web/logs?instance=7")
    expect(beyond.status).toBe(400)
    expect(beyond.body.errors).toEqual([
      { path: ["query", "instance"], message: "web has instances 0 to 1 (scaling.max_instances 2); found 7" },
    ])
    const crashes = await daemon.api<Problem>("GET", "/api/crashes?limit=0&since=yesterday")
    expect(crashes.status).toBe(400)
    expect(crashes.body.errors.map((e) => e.path.join("."))).toEqual(["query.since", "query.limit"])
    expect(crashes.body.errors[0]?.message).toBe(
      'expected a duration such as 10m, 1h30m or 2d, or an ISO time, found "yesterday"',
    )
  })

  it("follow=true streams the history, then new lines; Last-Event-ID resumes after a line", async () => {
    const frames = await sseFrames(
      "/api/services/web/logs?follow=true&lines=3&grep=tick",
      {},
      (f) => f.filter((x) => x.event === "line").length >= 5,
    )
    const lines = frames
      .filter((f) => f.event === "line")
      .map((f) => ({ id: Number(f.id), ...JSON.parse(f.data) }))
    expect(lines).toHaveLength(5)
    for (const line of lines) {
      expect(line.id).toBe(line.seq)
      expect(line.line).toMatch(/^tick \d+$/)
    }
    // Seq order, no line twice: 3 from the history, 2 that came while listening.
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((a, b) => a - b))
    expect(new Set(lines.map((l) => l.seq)).size).toBe(5)
    const from = lines[1]?.seq as number
    const resumed = await sseFrames(
      "/api/services/web/logs",
      { accept: "text/event-stream", "last-event-id": String(from) },
      (f) => f.filter((x) => x.event === "line").length >= 3,
    )
    expect(resumed.filter((f) => f.event === "line").map((f) => Number(f.id))).toEqual([
      from + 1,
      from + 2,
      from + 3,
    ])
  })
})

describe("crash reports", () => {
  it("a crashing unit yields a report with its exit code and last stderr line, which its reason quotes", async () => {
    const service = await untilUnit(
      daemon,
      "services",
      "crasher",
      (s) => s.status === "stopped" && String((s as { reason?: string }).reason).startsWith("exited"),
    )
    const { body } = await daemon.api<{ reason: string }>("GET", "/api/services/crasher")
    expect(body.reason).toMatch(new RegExp(`^exited with code 1: ${literally(EADDRINUSE)};`))
    expect(service.pid).toBeNull()
    const list = await daemon.api<{ crashes: Array<Record<string, unknown>> }>(
      "GET",
      "/api/crashes?unit=crasher",
    )
    expect(list.status).toBe(200)
    expect(list.body.crashes).toEqual([
      {
        id: expect.any(Number),
        unit: "crasher",
        instance: 0,
        time: expect.stringMatching(/^\d{4}-/),
        failure: "exit",
        exit_code: 1,
        signal: null,
        reason: `exited with code 1: ${EADDRINUSE}`,
        uptime_ms: expect.any(Number),
        restarts: 0,
      },
    ])
    const id = list.body.crashes[0]?.id as number
    const report = await daemon.api<{
      last_lines: Array<{ stream: string; line: string }>
      resources: unknown
    }>("GET", `/api/crashes/${id}`)
    expect(report.body.last_lines).toEqual([{ time: expect.any(String), stream: "stderr", line: EADDRINUSE }])
    expect(report.body.resources).toMatchObject({
      rss_bytes: expect.toSatisfy((v) => v === null || typeof v === "number"),
    })
    expect((await daemon.api("GET", "/api/crashes/99999")).status).toBe(404)

    const table = await sam(["crashes", "crasher"])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(
      new RegExp(
        `^${id} +\\S+ \\S+ +crasher +code 1 +\\S+ +exited with code 1: Error: listen EADDRINUSE`,
        "m",
      ),
    )
    const shown = await sam(["crashes", "show", String(id)])
    expect(shown.stdout).toContain(`crash ${id}: crasher at `)
    expect(shown.stdout).toContain("failure:  exit, exit code 1")
    expect(shown.stdout).toMatch(new RegExp(`stderr +${literally(EADDRINUSE)}`))
    expect((await sam(["crashes", "show", "99999"])).stderr).toContain("no crash report 99999")
    // A unit SAM runs that never crashed has none; a name it does not know is an error, as elsewhere.
    expect(await sam(["crashes", "talker"])).toMatchObject({ code: 0, stdout: "no crash reports\n" })
    const typo = await sam(["crashes", "crashr"])
    expect(typo.code).toBe(1)
    expect(typo.stdout).toBe("")
    expect(typo.stderr).toContain(
      'no agent or service "crashr" (did you mean "crasher"?), and no crash reports of one',
    )
    // An instance as the table names one (`web#1`): only that instance's reports.
    expect((await sam(["crashes", "crasher#0"])).stdout).toMatch(
      new RegExp(`^${id} +\\S+ \\S+ +crasher +code 1`, "m"),
    )
    // An instance it can never run is a mistake, as `sam logs --instance` says (no reports of it).
    const impossible = await sam(["crashes", "crasher#1"])
    expect(impossible).toMatchObject({ code: 1, stdout: "" })
    expect(impossible.stderr).toContain("crasher has one instance, 0 (scaling.max_instances 1); found 1")
    const api = await daemon.api<{ errors: unknown }>("GET", "/api/crashes?unit=crasher%231")
    expect(api.status).toBe(400)
    expect(api.body.errors).toEqual([
      { path: ["query", "unit"], message: "crasher has one instance, 0 (scaling.max_instances 1); found 1" },
    ])
  })
})

// Last: the second instance's lines stay in web's log for whatever reads it afterwards.
describe("sam logs of a scaled service", () => {
  it("a unit of several instances: every line prefixed, web#0 and web#1 in one column, as `sam ps` names them", async () => {
    expect((await sam(["scale", "web", "2"])).code).toBe(0)
    try {
      const run = await untilLogs(["web", "-n", "40"], (out) => /^web#1 \| tick/m.test(out))
      const lines = run.stdout.trimEnd().split("\n")
      expect(new Set(lines.map((line) => line.indexOf(" | ")))).toEqual(new Set(["web#1".length]))
      expect(lines.some((line) => line.startsWith("web#0 | "))).toBe(true)
    } finally {
      expect((await sam(["scale", "web", "1"])).code).toBe(0)
    }
  })
})
