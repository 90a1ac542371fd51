// The real `sam` binary against a running SAM: the daemon (`sam start`) serves its control API
// while units are still starting, and status, ps, the lifecycle commands, invoke, events, reload
// and audit verify work against it; every error says what to do next. SIGTERM stops it all.
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { repoRoot, runSam, runSamInTerminal } from "../cli/runSam.ts"
import { fixture, survivors } from "../support/runtime.ts"

const ADMIN = "cli-admin-3b9f1d7e"
const VIEWER = "cli-viewer-8c2a6e4f"

let dir = ""
let daemon: ChildProcess
let daemonOut = ""
let url = ""
const pids = new Set<number>()

/** Resolves with the daemon's output once it matches `pattern`. */
const daemonSays = (pattern: RegExp): Promise<string> =>
  new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(daemonOut)) {
        daemon.stdout?.off("data", check)
        daemon.off("exit", onExit)
        resolve(daemonOut)
      }
    }
    const onExit = (code: number | null) =>
      reject(new Error(`sam start exited (${code}) before ${pattern}:\n${daemonOut}`))
    daemon.stdout?.on("data", check)
    daemon.once("exit", onExit)
    check()
  })

/** Run the real `sam` in the project directory with SAM_TOKEN = `token` (null: none). */
const sam = (args: ReadonlyArray<string>, token: string | null = ADMIN, env: Record<string, string> = {}) =>
  runSam(args, { cwd: dir, env: { ...(token === null ? {} : { SAM_TOKEN: token }), ...env } })

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sam-cli-api-"))
  const service = (script: string, extra: Record<string, unknown> = {}) => ({
    deployment: { mode: "process", command: process.execPath, args: [fixture(script)] },
    // A start period: on a loaded machine Node may take seconds to listen, and the start-up's
    // report would name it not ready once its check's budget ran out (4/4 is asserted below).
    health_check: {
      endpoint: "/health",
      interval_seconds: 0.2,
      timeout_seconds: 1,
      start_period_seconds: 20,
    },
    ...extra,
  })
  const config = {
    api: { port: 0 },
    security: {
      api_tokens: {
        root: { token: "${env.SAM_ADMIN_TOKEN}", role: "admin" },
        dashboard: { token: VIEWER, role: "viewer" },
      },
    },
    services: {
      db: service("http-service.mjs", { scaling: { max_instances: 2 } }),
      web: service("http-service.mjs", { depends_on: ["db"] }),
      // Ready after 2.5 s; its check gates readiness only, so the wait is not a failure.
      slow: {
        deployment: {
          mode: "process",
          command: process.execPath,
          args: [fixture("slow-ready.mjs")],
          env: { READY_AFTER_MS: "2500" },
        },
        health_check: { endpoint: "/health", interval_seconds: 0.2, kind: "readiness" },
      },
    },
    agents: { helper: { path: fixture("agents/probe"), capabilities: ["echo", "stream", "tokens"] } },
  }
  await writeFile(join(dir, "sam.config.ts"), `export default ${JSON.stringify(config, null, 2)}\n`)
  daemon = spawn(process.execPath, [join(repoRoot, "src", "cli", "main.ts"), "start"], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SAM_ADMIN_TOKEN: ADMIN },
    stdio: ["ignore", "pipe", "pipe"],
  })
  daemon.stdout?.on("data", (chunk: Buffer) => {
    daemonOut += chunk.toString()
  })
  daemon.stderr?.on("data", (chunk: Buffer) => {
    daemonOut += chunk.toString()
  })
  const out = await daemonSays(/control API on (http:\/\/127\.0\.0\.1:\d+)/)
  url = /control API on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!
})

afterAll(async () => {
  if (daemon.exitCode === null && daemon.signalCode === null) {
    // Still running (a test failed or was skipped): stop it the way users do, so its units stop too.
    await units().catch(() => [])
    const exited = new Promise((resolve) => daemon.once("exit", resolve))
    daemon.kill("SIGTERM")
    const deadline = setTimeout(() => daemon.kill("SIGKILL"), 15_000)
    await exited
    clearTimeout(deadline)
  }
  expect(survivors(pids)).toEqual([])
  await rm(dir, { recursive: true, force: true })
})

interface Row {
  id: string
  kind: string
  state: string
  ready: boolean
  pid: number | null
}

const units = async (): Promise<Row[]> => {
  const run = await sam(["ps", "--json"])
  expect(run.stderr).toBe("")
  const rows = JSON.parse(run.stdout) as Row[]
  for (const r of rows) if (r.pid !== null) pids.add(r.pid)
  return rows
}

describe("sam against a running SAM", () => {
  it("the API answers while units are still starting; the summary names the API URL", async () => {
    const early = await fetch(`${url}/api/services`, { headers: { authorization: `Bearer ${ADMIN}` } })
    const slow = ((await early.json()) as { services: Row[] }).services.find((s) => s.id === "slow")
    expect(slow).toMatchObject({ ready: false })
    await daemonSays(/units ready in \d+ ms; API http:\/\/127\.0\.0\.1:\d+/)
    expect(daemonOut).toContain(`4/4 units ready`)
    expect(daemonOut.indexOf("control API on")).toBeLessThan(daemonOut.indexOf("ready slow"))
  })

  it("sam status and sam ps print a table; --json is for scripts", async () => {
    // db's CPU and memory columns need a first usage sample (every 2 s; later on a loaded machine).
    const deadline = Date.now() + 15_000
    const sampled = async () => {
      const response = await fetch(`${url}/api/services/db`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      return ((await response.json()) as { memory_bytes: number | null }).memory_bytes !== null
    }
    while (!(await sampled()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const status = await sam(["status"])
    expect(status.code).toBe(0)
    // The summary's form; its health word is the watchdog's, which a loaded CI machine's event
    // loop lag can make "degraded" (test/metrics covers the watchdog itself).
    expect(status.stdout).toMatch(
      new RegExp(
        `^SAM \\S+ at ${url}: (healthy|degraded), up \\S+\\n3/3 services running; 1/1 agents running\\n`,
      ),
    )
    expect(status.stdout).toMatch(
      /\nID +KIND +RUNTIME +STATE +READY +INST +RESTARTS +UPTIME +PID +PORT +CPU +MEM\n/,
    )
    // (Restarts: any count; a loaded machine may fail a few of db's 0.2 s liveness checks.)
    expect(status.stdout).toMatch(
      /\ndb +service +process +running +yes +1 +\d+ +\S+ +\d+ +\d+ +[\d.]+% +[\d.]+ MB\n/,
    )
    expect(status.stdout).toMatch(/\nhelper +agent +sandbox +running +yes /)
    const rows = await units()
    expect(rows.map((r) => [r.id, r.kind])).toEqual([
      ["db", "service"],
      ["web", "service"],
      ["slow", "service"],
      ["helper", "agent"],
    ])
  })

  it("sam stop, start, restart, suspend and resume act on units and report their state", async () => {
    expect(await sam(["stop", "web"])).toMatchObject({ code: 0, stdout: "web is stopped\n" })
    // Asking for the state a unit is in already is no failure (as systemctl and docker stop are).
    expect(await sam(["stop", "web"])).toMatchObject({
      code: 0,
      stdout: "web is stopped already\n",
      stderr: "",
    })
    expect((await sam(["start", "web"])).stdout).toMatch(/^web is running/)
    // db has a health check: ready means it passed (readiness_checked in the API).
    expect((await sam(["restart", "db"])).stdout).toMatch(/^db is running and ready, pid \d+\n$/)
    expect((await sam(["suspend", "helper"])).stdout).toMatch(/^helper is suspended, pid \d+\n$/)
    expect((await sam(["resume", "helper"])).stdout).toMatch(/^helper is running/)
    // A service too (SIGSTOP, like docker pause), as POST /api/services/:id/suspend does.
    expect((await sam(["suspend", "db"])).stdout).toMatch(/^db is suspended, pid \d+\n$/)
    expect((await sam(["resume", "db"])).stdout).toMatch(/^db is running/)
    const unknown = await sam(["stop", "dbb"])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toBe('sam: no agent or service "dbb" (did you mean "db"?); `sam ps` lists them\n')
    await units()
  })

  it("several ids and `all`: dependencies first (dependents first to stop); unknown ids refuse the lot; one refusal spares the rest", async () => {
    const refused = await sam(["stop", "web", "dbb"])
    expect(refused).toMatchObject({ code: 1, stdout: "" })
    expect(refused.stderr).toBe(
      'sam: no agent or service "dbb" (did you mean "db"?); `sam ps` lists them (nothing was done)\n',
    )
    expect((await units()).map((r) => r.state)).toEqual(["running", "running", "running", "running"])
    expect(await sam(["stop", "db", "web"])).toMatchObject({
      code: 0,
      stdout: "web is stopped\ndb is stopped\n",
    })
    // A dependency an operator stopped is not started behind their back, and the refusal says so once.
    expect(await sam(["start", "web"])).toMatchObject({
      code: 1,
      stderr: 'sam: cannot start "web": its dependency db was stopped by an operator; start it first\n',
    })
    const started = await sam(["start", "all"])
    expect(started.code).toBe(0)
    expect(started.stdout).toMatch(/^db is running[^\n]*\nweb is running[^\n]*\n$/)
    const restarted = await sam(["restart", "all"])
    expect(restarted.code).toBe(0)
    const order = restarted.stdout.split("\n").map((line) => line.split(" ")[0])
    expect(order.filter(Boolean).sort()).toEqual(["db", "helper", "slow", "web"])
    expect(order.indexOf("db")).toBeLessThan(order.indexOf("web"))
    // web is stopped: its suspend is refused and told, db is still suspended.
    expect((await sam(["stop", "web"])).code).toBe(0)
    const partly = await sam(["suspend", "web", "db"])
    expect(partly.code).toBe(1)
    expect(partly.stdout).toMatch(/^db is suspended, pid \d+\n$/)
    expect(partly.stderr).toBe(
      'sam: cannot suspend "web": it is stopped; only a running unit can be suspended\n',
    )
    expect((await sam(["resume", "db"])).stdout).toMatch(/^db is running/)
    expect(await sam(["stop", "web", "db"])).toMatchObject({
      code: 0,
      stdout: "web is stopped already\ndb is stopped\n",
    })
    const all = await sam(["stop", "all"])
    expect(all).toMatchObject({ code: 0, stderr: "" })
    expect(all.stdout.split("\n").filter(Boolean).sort()).toEqual(["helper is stopped", "slow is stopped"])
    expect(await sam(["stop", "all"])).toMatchObject({
      code: 0,
      stdout: "nothing to stop: no unit is in a state stop applies to (`sam ps` lists them)\n",
    })
    expect((await sam(["start", "all"])).code).toBe(0)
    expect((await units()).map((r) => r.state)).toEqual(["running", "running", "running", "running"])
  })

  it("sam ps <id>... lists only those units; an unknown id is named", async () => {
    const two = await sam(["ps", "web", "db", "--json"])
    expect(two.code).toBe(0)
    expect((JSON.parse(two.stdout) as Row[]).map((r) => r.id)).toEqual(["db", "web"])
    expect(await sam(["ps", "dbx"])).toMatchObject({
      code: 1,
      stdout: "",
      stderr: 'sam: no agent or service "dbx" (did you mean "db"?); `sam ps` lists them\n',
    })
  })

  it("sam ps shows how many instances a scaled service runs", async () => {
    expect((await sam(["scale", "db", "2"])).code).toBe(0)
    // The scale answers once the new instance runs; its check may pass a moment later (a loaded CI).
    await vi.waitFor(
      async () => expect((await sam(["ps"])).stdout).toMatch(/\ndb +service +process +running +yes +2 +/),
      {
        timeout: 15_000,
        interval: 100,
      },
    )
    expect((await sam(["scale", "db", "1"])).code).toBe(0)
    expect((await sam(["ps"])).stdout).toMatch(/\ndb +service +process +running +yes +1 +/)
    await units()
  })

  it("sam invoke prints the output, and says who served it", async () => {
    const run = await sam(["invoke", "echo", '{"text":"hi"}'])
    expect(run).toMatchObject({ code: 0, stdout: '{\n  "text": "hi"\n}\n' })
    expect(run.stderr).toMatch(/^served by helper in \d+ ms\n$/)
    const streamed = await sam(["invoke", "stream", '{"count":2}', "--stream"])
    expect(streamed).toMatchObject({ code: 0, stdout: "1\n2\n" })
    // Strings as they come, nothing between them: tokens spell their text (to a pipe exactly).
    const tokens = await sam(["invoke", "tokens", '{"words":["Hel","lo,"," world"]}', "--stream"])
    expect(tokens).toMatchObject({ code: 0, stdout: "Hello, world" })
    const bad = await sam(["invoke", "echo", "{oops"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("<json> is not valid JSON")
    const missing = await sam(["invoke", "summarize", "{}"])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('no agent or plugin offers capability "summarize"')
    // What SAM's answer quotes is escaped on stderr as `sam logs` shows it; a pipe gets the exact
    // output on stdout (to a terminal it is escaped too).
    const retitle = await sam(["invoke", "\x1b]0;pwned\x07", "{}"])
    expect(retitle.stderr).toContain("\\x1b]0;pwned\\x07")
    expect(retitle.stderr).not.toContain("\x1b")
    const exact = await sam(["invoke", "echo", '"\\u001b[2Jcleared"'])
    expect(exact.stdout).toBe("\x1b[2Jcleared\n")
    const shown = await runSamInTerminal(["invoke", "echo", '"\\u001b[2Jcleared"'], {
      cwd: dir,
      env: { SAM_TOKEN: ADMIN },
    })
    expect(shown.output).toContain("\\x1b[2Jcleared")
    expect(shown.output).not.toContain("\x1b[2J")
    // To a terminal the streamed text ends its line before the prompt and the served-by note.
    const typed = await runSamInTerminal(["invoke", "tokens", '{"words":["Hel","lo"]}', "--stream"], {
      cwd: dir,
      env: { SAM_TOKEN: ADMIN },
    })
    expect(typed.output).toMatch(/Hello\r?\nserved by helper in \d+ ms/)
  })

  it("sam capabilities lists each capability's providers; one whose providers are stopped says how to start one", async () => {
    const listed = await sam(["capabilities"], VIEWER)
    expect(listed).toMatchObject({ code: 0, stderr: "" })
    expect(listed.stdout).toBe(
      [
        "CAPABILITY  AVAILABLE  PROVIDER  STATE    READY  IN FLIGHT  DESCRIPTION",
        "echo        yes        helper    running  yes    0          answers its input",
        "stream      yes        helper    running  yes    0",
        "tokens      yes        helper    running  yes    0",
        "",
      ].join("\n"),
    )
    expect((await sam(["stop", "helper"])).code).toBe(0)
    const json = await sam(["capabilities", "--json"], VIEWER)
    expect(JSON.parse(json.stdout)).toEqual({
      capabilities: [
        {
          name: "echo",
          description: "answers its input",
          available: false,
          providers: [{ unit: "helper", instance: 0, state: "stopped", ready: false, in_flight: 0 }],
        },
        {
          name: "stream",
          description: null,
          available: false,
          providers: [{ unit: "helper", instance: 0, state: "stopped", ready: false, in_flight: 0 }],
        },
        {
          name: "tokens",
          description: null,
          available: false,
          providers: [{ unit: "helper", instance: 0, state: "stopped", ready: false, in_flight: 0 }],
        },
      ],
    })
    const down = await sam(["invoke", "echo", "{}"])
    expect(down).toMatchObject({ code: 1, stdout: "" })
    expect(down.stderr).toBe(
      'sam: capability "echo" is unavailable: its providers helper (stopped) are not running; start one with `sam start helper`\n',
    )
    expect((await sam(["start", "helper"])).stdout).toMatch(/^helper is running/)
    await units()
  })

  it("sam events follows the stream until Ctrl+C", async () => {
    const child = spawn(process.execPath, [join(repoRoot, "src", "cli", "main.ts"), "events"], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SAM_TOKEN: VIEWER },
    })
    let out = ""
    const seen = (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (pattern.test(out)) {
            child.stdout.off("data", check)
            resolve()
          }
        }
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString()
        })
        child.stdout.on("data", check)
      })
    await seen(/snapshot: 4 units\n/)
    const restarted = seen(/ web running\.ready → stopping/)
    await sam(["restart", "web"])
    await restarted
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve))
    child.kill("SIGINT")
    expect(await exited).toBe(0)
    expect(out).toMatch(/^\d\d:\d\d:\d\d snapshot: 4 units\n {2}db running ready\n/)
    await units()
  })

  it("sam reload reloads the configuration of the running SAM", async () => {
    const run = await sam(["reload"])
    expect(run.stderr).toBe("")
    expect(run).toMatchObject({ code: 0, stdout: "config reloaded: nothing changed\n" })
  })

  it("errors say what to do: no token, a weaker role, SAM not running", async () => {
    const anonymous = await sam(["ps"], null)
    expect(anonymous.code).toBe(1)
    expect(anonymous.stderr).toBe(
      `sam: SAM at ${url} needs a token and the CLI found none. Set SAM_TOKEN to a token from security.api_tokens in SAM's config (a SAM without configured tokens keeps its local token in <state_dir>/token, which the CLI reads)\n`,
    )
    const wrong = await sam(["ps"], "not-a-token-of-this-sam-0000")
    expect(wrong.stderr).toBe(
      `sam: SAM at ${url} refused the token in SAM_TOKEN: it matches none of its tokens. Set SAM_TOKEN to a token from security.api_tokens in SAM's config, or unset it to use the local token of a SAM without configured tokens (<state_dir>/token)\n`,
    )
    const viewer = await sam(["stop", "db"], VIEWER)
    expect(viewer.code).toBe(1)
    expect(viewer.stderr).toContain(
      'token "dashboard" has role viewer; POST /api/services/:id/stop needs operator',
    )
    const nowhere = await sam(["status"], ADMIN, { SAM_URL: "http://127.0.0.1:9" })
    expect(nowhere).toMatchObject({ code: 1 })
    expect(nowhere.stderr).toBe(
      "sam: SAM is not running at http://127.0.0.1:9: start it with `sam start` (`npx sam start` in a project that installed SAM), or set SAM_URL to where it runs\n",
    )
    // Another program on SAM's address: named as such, whatever it answers.
    const squatter = createServer((req, res) => {
      res.writeHead(200, req.url?.startsWith("/api/agents") ? { "content-type": "application/json" } : {})
      res.end(req.url?.startsWith("/api/agents") ? "{not json" : "squatter")
    })
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve))
    try {
      const at = `http://127.0.0.1:${(squatter.address() as AddressInfo).port}`
      for (const command of [["status"], ["ps"]]) {
        const run = await sam(command, ADMIN, { SAM_URL: at })
        expect(run).toMatchObject({ code: 1, stdout: "" })
        expect(run.stderr).toMatch(
          new RegExp(`^sam: what answered GET /api/\\S+ at ${at} is not SAM's control API \\(HTTP 200, `),
        )
        expect(run.stderr).toContain(
          "another program may hold that port; point the CLI at SAM with --url or SAM_URL\n",
        )
        expect(run.stderr).not.toContain("SyntaxError")
      }
    } finally {
      await new Promise((resolve) => squatter.close(resolve))
    }
  })

  it("sam audit verify checks the log of every command above", async () => {
    const run = await sam(["audit", "verify"])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/audit\.log: \d+ entries, chain intact/)
  })

  it("SIGTERM stops every unit and the API, and exits 0", async () => {
    await units()
    const exited = new Promise<number | null>((resolve) => daemon.once("exit", resolve))
    daemon.kill("SIGTERM")
    expect(await exited).toBe(0)
    expect(daemonOut).toContain("sam: stopped")
    expect(survivors(pids)).toEqual([])
    expect(existsSync(join(dir, ".sam", "api.json"))).toBe(false)
    expect(await fetch(`${url}/api/status`).catch(() => "refused")).toBe("refused")
  })
})

describe("sam start refusing an unsafe address", () => {
  it("exits 2 without starting anything when the API would be open on a non-loopback host", async () => {
    const project = await mkdtemp(join(tmpdir(), "sam-cli-open-"))
    try {
      await writeFile(
        join(project, "sam.config.ts"),
        `export default { services: { db: { deployment: { mode: "process", command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture("http-service.mjs"))}] } } } }\n`,
      )
      const run = await runSam(["start", "--host", "0.0.0.0", "--port", "0"], { cwd: project })
      expect(run.code).toBe(2)
      expect(run.stdout).toContain(
        "refusing to serve the control API on 0.0.0.0: no API tokens are configured",
      )
      expect(run.stdout).toContain("security.api_tokens")
      expect(run.stdout).not.toContain("starting")
    } finally {
      await rm(project, { recursive: true, force: true })
    }
  })
})
