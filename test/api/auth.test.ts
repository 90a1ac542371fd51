// The auth model from the outside: there is no open API. A real `sam start` without configured
// tokens keeps a local admin token (mode 0600) and refuses every request without it; the CLI and
// `sam dashboard` work through it; short and empty tokens are refused at validate and start;
// startApiServer will not serve without a credential. Sessions and cookies: browserLogin.test.ts.
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { ApiServeError, startApiServer } from "../../src/api/apiServer.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { runSam } from "../cli/runSam.ts"
import { fixturePath, type Project, project } from "../support/daemon.ts"

const projects: Project[] = []
afterEach(async () => {
  for (const p of projects.splice(0)) expect(await p.cleanup()).toEqual([])
})

const newProject = (config: unknown): Project => {
  const p = project()
  projects.push(p)
  p.writeConfig(config)
  return p
}

const httpService = {
  deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
  health_check: { endpoint: "/health", interval_seconds: 1, kind: "readiness" },
}

/** Every kind of endpoint: reads, the event stream, a lifecycle command, invoke, reload, a plugin route. */
const guarded: ReadonlyArray<readonly [string, string]> = [
  ["GET", "/api/status"],
  ["GET", "/api/services"],
  ["GET", "/api/services/db"],
  ["GET", "/api/agents"],
  ["GET", "/api/events"],
  ["GET", "/api/capabilities"],
  ["GET", "/api/plugins"],
  ["GET", "/api/plugins/anything/route"],
  ["POST", "/api/services/db/stop"],
  ["POST", "/api/capabilities/echo/invoke"],
  ["POST", "/api/config/reload"],
]

const apiUrl = (p: Project): string =>
  (JSON.parse(readFileSync(join(p.stateDir, "api.json"), "utf8")) as { url: string }).url

describe("with no tokens configured", () => {
  it("SAM keeps a local admin token (mode 0600), refuses every request without it (401), and the CLI works through it", async () => {
    const p = newProject({ services: { db: httpService } })
    const sam = await p.start()
    await sam.waitForOutput("units ready")
    const tokenFile = join(p.stateDir, "token")
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600)
    const token = readFileSync(tokenFile, "utf8").trim()
    expect(token.length).toBeGreaterThanOrEqual(16)
    const url = apiUrl(p)
    // Its output is a pipe here, not a terminal: the address without the token, which stays out
    // of wherever the output is kept (`sam dashboard` below prints the link).
    expect(sam.output()).toContain(
      `sam: dashboard: ${url}/ (\`sam dashboard\` prints its login link: it is not written where output is kept)\n`,
    )
    expect(sam.output()).not.toContain(token)

    for (const [method, path] of guarded) {
      for (const authorization of [undefined, "Bearer not-the-token-at-all-0000", "Basic YWRtaW46YWRtaW4="]) {
        const response = await fetch(`${url}${path}`, {
          method,
          headers: {
            ...(authorization === undefined ? {} : { authorization }),
            ...(method === "POST" ? { "content-type": "application/json" } : {}),
          },
          ...(method === "POST" ? { body: "{}" } : {}),
        })
        expect(response.status, `${method} ${path} with ${authorization}`).toBe(401)
        expect(response.headers.get("www-authenticate")).toBe('Bearer realm="sam"')
        await response.body?.cancel()
      }
    }
    // Nothing was done on the way: the service runs on.
    expect((await sam.api<{ status: string }>("GET", "/api/services/db")).body.status).toBe("running")
    // The description of the API is public; SAM's state is not.
    expect((await fetch(`${url}/api/openapi.json`)).status).toBe(200)

    const ps = await runSam(["ps", "--config", "sam.config.json"], { cwd: p.dir })
    expect(ps.stderr).toBe("")
    expect(ps).toMatchObject({ code: 0, stdout: expect.stringMatching(/^db\s+service\s+process\s+running/m) })
    const dashboard = await runSam(["dashboard", "--config", "sam.config.json"], { cwd: p.dir })
    expect(dashboard).toMatchObject({ code: 0, stdout: `dashboard: ${url}/?token=${token}\n` })
    // Another token in SAM_TOKEN is used instead, and refused.
    const wrong = await runSam(["ps", "--config", "sam.config.json"], {
      cwd: p.dir,
      env: { SAM_TOKEN: "wrong-wrong-wrong-wrong" },
    })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain("refused the token in SAM_TOKEN: it matches none of its tokens")
  })

  it("a missing, short or world-readable token file is replaced at the next start", async () => {
    const p = newProject({ services: {} })
    const tokenOf = () => readFileSync(join(p.stateDir, "token"), "utf8").trim()
    const run = async () => {
      const sam = await p.start()
      await sam.waitForOutput("units ready")
      sam.child.kill("SIGTERM")
      expect(await sam.exited).toBe(0)
      return sam.output()
    }
    await run()
    const first = tokenOf()
    expect(await run()).not.toContain("wrote a new local API token")
    expect(tokenOf()).toBe(first)

    chmodSync(join(p.stateDir, "token"), 0o644)
    expect(await run()).toContain("it was readable by other users (mode 644)")
    const second = tokenOf()
    expect(second).not.toBe(first)
    expect(statSync(join(p.stateDir, "token")).mode & 0o777).toBe(0o600)

    writeFileSync(join(p.stateDir, "token"), "short\n", { mode: 0o600 })
    expect(await run()).toContain("it was shorter than 16 characters")
    rmSync(join(p.stateDir, "token"))
    await run()
    expect(tokenOf()).not.toBe(second)
    expect(tokenOf().length).toBeGreaterThanOrEqual(16)
  }, 90_000)

  it("configured tokens replace the local one: its file is removed, and it no longer works", async () => {
    const p = newProject({ services: {} })
    const first = await p.start()
    await first.waitForOutput("units ready")
    const local = readFileSync(join(p.stateDir, "token"), "utf8").trim()
    first.child.kill("SIGTERM")
    await first.exited
    p.writeConfig({
      services: {},
      security: { api_tokens: { ops: { token: "ops-token-0123456789abcdef", role: "operator" } } },
    })
    const second = await p.start()
    await second.waitForOutput("units ready")
    expect(() => statSync(join(p.stateDir, "token"))).toThrow()
    const url = apiUrl(p)
    expect((await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${local}` } })).status).toBe(
      401,
    )
    const ok = await fetch(`${url}/api/status`, {
      headers: { authorization: "Bearer ops-token-0123456789abcdef" },
    })
    expect(ok.status).toBe(200)
    expect(second.output()).toContain(`sam: dashboard: ${url}/ (`)
  })
})

describe("token strength", () => {
  const withToken = (p: Project) =>
    p.writeConfig({
      services: {},
      security: { api_tokens: { me: { token: "${env.SAM_ADMIN_TOKEN}", role: "admin" } } },
    })

  it("empty and short tokens (after secrets resolve) are refused by validate and start, naming the path", async () => {
    const p = newProject({})
    withToken(p)
    for (const value of ["", "short-secret"]) {
      const env = { SAM_ADMIN_TOKEN: value }
      const validate = await runSam(["validate", "--config", "sam.config.json"], { cwd: p.dir, env })
      expect(validate.code, validate.stdout).toBe(2)
      expect(validate.stderr).toContain("security.api_tokens.me.token")
      const start = await runSam(["start", "--config", "sam.config.json", "--port", "0"], { cwd: p.dir, env })
      expect(start.code).toBe(2)
      expect(start.stderr).toContain("security.api_tokens.me.token")
      expect(start.stdout).not.toContain("starting")
      if (value !== "") {
        expect(validate.stderr).toContain("is 12 characters long; API tokens need at least 16")
        expect(`${validate.stderr}${start.stderr}`).not.toContain(value)
      }
    }
    const strong = await runSam(["validate", "--config", "sam.config.json"], {
      cwd: p.dir,
      env: { SAM_ADMIN_TOKEN: "a-long-enough-admin-token" },
    })
    expect(strong.code).toBe(0)
  })

  it("startApiServer serves no API without a credential, with a short token, or off loopback with only the local token", async () => {
    const sam = new Sam({ units: [] })
    try {
      const refusal = (options: Omit<Parameters<typeof startApiServer>[0], "sam">) =>
        startApiServer({ sam, port: 0, ...options }).catch((e: unknown) => e)
      const none = await refusal({})
      expect(none).toBeInstanceOf(ApiServeError)
      expect(none).toMatchObject({ reason: "no-credential" })
      expect(await refusal({ tokens: { ci: { token: "too-short", role: "admin" } } })).toMatchObject({
        reason: "weak-token",
        message: 'the token "ci" is 9 characters long; API tokens need at least 16',
      })
      const offLoopback = await refusal({ host: "0.0.0.0", localToken: "a-local-token-of-some-length" })
      expect(offLoopback).toMatchObject({ reason: "unsafe-bind" })
      expect((offLoopback as Error).message).toContain("security.api_tokens")
    } finally {
      await sam.stop()
    }
  })
})

/** A service that writes the environment it was given to `file` (as JSON), then idles. */
const dumperOf = (file: string) => ({
  deployment: {
    mode: "process" as const,
    command: process.execPath,
    args: [fixturePath("env-dump.mjs"), file],
  },
})

describe("no unit is given an API token", () => {
  it("a token resolved from SAM's environment is withheld from every child that inherits it, under any name", async () => {
    const { createSam } = await import("../../src/app/createSam.ts")
    const { mkdtempSync, existsSync } = await import("node:fs")
    const { tmpdir } = await import("node:os")
    const dir = mkdtempSync(join(tmpdir(), "sam-withheld-"))
    const token = "withheld-admin-token-4d2f8e1a9b"
    process.env.SAM_TEST_WITHHELD = token
    process.env.SAM_TEST_WITHHELD_INSIDE = `Bearer ${token}`
    process.env.SAM_TEST_HARMLESS = "an ordinary value"
    const dump = join(dir, "env.json")
    const sam = await createSam(
      {
        services: {
          dumper: dumperOf(dump),
        },
        security: { api_tokens: { me: { token, role: "admin" } } },
        runtime: { state_dir: ".sam" },
      },
      { cwd: dir, plugins: false },
    )
    try {
      await sam.start()
      const deadline = Date.now() + 10_000
      while (!existsSync(dump) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      const env = JSON.parse(readFileSync(dump, "utf8")) as Record<string, string>
      expect(env.SAM_TEST_HARMLESS).toBe("an ordinary value")
      expect(env.SAM_TEST_WITHHELD).toBeUndefined()
      expect(env.SAM_TEST_WITHHELD_INSIDE).toBeUndefined()
      expect(Object.values(env)).not.toContain(token)
    } finally {
      await sam.stop()
      delete process.env.SAM_TEST_WITHHELD
      delete process.env.SAM_TEST_WITHHELD_INSIDE
      delete process.env.SAM_TEST_HARMLESS
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("the local admin token, which outlives SAM in its file, is withheld from children that inherit it too", async () => {
    const p = newProject({ services: {} })
    let sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    sam.child.kill("SIGTERM")
    expect(await sam.exited).toBe(0)
    const local = readFileSync(join(p.stateDir, "token"), "utf8").trim()
    const dump = join(p.dir, "env.json")
    p.writeConfig({
      services: {
        dumper: dumperOf(dump),
      },
    })
    // A shell that exported it (SAM_TOKEN=$(cat .sam/token) is SAM's own, and withheld by name).
    sam = await p.start([], { EXPORTED_TOKEN: local, IN_A_HEADER: `Authorization: Bearer ${local}` })
    await sam.waitForOutput("press Ctrl+C")
    const deadline = Date.now() + 10_000
    const { existsSync } = await import("node:fs")
    while (!existsSync(dump) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    const env = JSON.parse(readFileSync(dump, "utf8")) as Record<string, string>
    expect(env.EXPORTED_TOKEN).toBeUndefined()
    expect(env.IN_A_HEADER).toBeUndefined()
    expect(env.PATH).toBe(process.env.PATH)
  })

  it("a config that hands a unit an API token anywhere (environment, arguments, an agent's config) is refused, naming where", async () => {
    const token = "a-token-long-enough-000"
    const p = newProject({
      services: {
        web: {
          ...httpService,
          deployment: {
            ...httpService.deployment,
            args: [...(httpService.deployment.args ?? []), `--token=${token}`],
            env: { SAM_API: `Bearer ${token}` },
          },
        },
      },
      agents: { helper: { path: ".", config: { upstream: { auth: token } } } },
      security: { api_tokens: { ops: { token, role: "operator" } } },
    })
    const run = await runSam(["validate", "--config", "sam.config.json"], { cwd: p.dir })
    expect(run.code).toBe(2)
    const args = httpService.deployment.args?.length ?? 0
    for (const where of [
      "services.web.deployment.env.SAM_API",
      `services.web.deployment.args[${args}]`,
      "agents.helper.config.upstream.auth",
    ])
      expect(run.stderr).toContain(`${where}: holds the API token "ops"`)
    expect(run.stderr).not.toContain(token)
  })
})
