// The config examples of README.md and docs/ are run as users would run them: written to a
// project's config file and checked with `sam validate` (exit 0, no warning); the README's service
// example also runs under `sam start` until both its units are ready.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { repoRoot, runSam } from "../cli/runSam.ts"
import { type Project, project } from "../support/daemon.ts"
import { docBlock } from "../support/docBlock.ts"

/** A block that is a fragment of a config (`security: {...}`) indented under `key:` in YAML. */
const under = (key: string, yaml: string): string =>
  `${key}:\n${yaml
    .split("\n")
    .map((line) => (line ? `  ${line}` : line))
    .join("\n")}`

// The tests run concurrently: each has its own directory, all removed at the end.
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})
const tempDir = async (files: Record<string, string>): Promise<string> => {
  const dir = mkdtempSync(join(tmpdir(), "sam-doc-config-"))
  dirs.push(dir)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return dir
}

const validate = async (files: Record<string, string>, config: string, env: Record<string, string> = {}) => {
  const dir = await tempDir(files)
  const run = await runSam(["validate", "--strict-secrets", "--config", config], { cwd: dir, env })
  return { dir, ...run }
}

const expectValid = (run: { code: number | null; stdout: string; stderr: string }) => {
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  expect(run.stdout).toMatch(/^ok: /)
}

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

describe.concurrent("the docs' config examples pass `sam validate`", () => {
  it("README.md's service", async () => {
    expectValid(await validate({ "sam.yaml": docBlock("README.md", "service"), "server.js": "" }, "sam.yaml"))
  })

  it("docs/CONFIG.md's run-time placeholders, under services", async () => {
    expectValid(
      await validate(
        { "sam.yaml": under("services", docBlock("docs/CONFIG.md", "placeholders")) },
        "sam.yaml",
      ),
    )
  })

  it("docs/CONFIG.md's alert rules, beside the units they name", async () => {
    const units = [
      "services:",
      "  api: { deployment: { mode: external, url: 'http://127.0.0.1:9' } }",
      "  worker: { deployment: { mode: external, url: 'http://127.0.0.1:9' } }",
      "",
    ].join("\n")
    expectValid(await validate({ "sam.yaml": `${units}${docBlock("docs/CONFIG.md", "alerts")}` }, "sam.yaml"))
  })

  it("docs/CONFIG.md's depends_on conditions", async () => {
    expectValid(await validate({ "sam.yaml": docBlock("docs/CONFIG.md", "depends-on") }, "sam.yaml"))
  })

  it("docs/CONFIG.md's watch, beside the files it watches", async () => {
    expectValid(
      await validate(
        {
          "sam.yaml": docBlock("docs/CONFIG.md", "watch"),
          "src/server.js": "",
          "config/app.json": "{}",
          "worker.js": "",
        },
        "sam.yaml",
      ),
    )
  })

  it("docs/API.md's API tokens, with their variables set and the vault entry stored by `sam secrets set`", async () => {
    const config = `export default {\n${docBlock("docs/API.md", "api-tokens")}}\n`
    const dir = await tempDir({ "sam.config.mjs": config })
    const env = {
      SAM_VAULT_KEY: "a key for this test only",
      SAM_CI_TOKEN: "ci-token-0123456789abcdef",
      SAM_ADMIN_TOKEN: "admin-token-0123456789abcdef",
    }
    const stored = await runSam(["secrets", "set", "dash_token", "--config", "sam.config.mjs"], {
      cwd: dir,
      env,
      stdin: "dashboard-token-0123456789",
    })
    expect(stored.stderr).toBe("")
    expect(stored.code).toBe(0)
    expectValid(
      await runSam(["validate", "--strict-secrets", "--config", "sam.config.mjs"], { cwd: dir, env }),
    )
    // Without the variables it is the problem the docs describe, naming the path, exit 2.
    const missing = await runSam(["validate", "--strict-secrets", "--config", "sam.config.mjs"], {
      cwd: dir,
      env: { SAM_VAULT_KEY: env.SAM_VAULT_KEY },
    })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("security.api_tokens.ci.token")
  })

  it("docs/PLUGINS.md's plugin entry in sam.config.ts, with its notifier plugin (validate imports it and checks its config)", async () => {
    const local = (text: string) =>
      text
        .replace('from "sam"', `from ${JSON.stringify(join(repoRoot, "src", "index.ts"))}`)
        .replace(
          'from "effect"',
          `from ${JSON.stringify(join(repoRoot, "node_modules", "effect", "dist", "index.js"))}`,
        )
    const files = {
      "sam.config.ts": local(docBlock("docs/PLUGINS.md", "plugin-config")),
      "plugins/notifier/index.ts": local(docBlock("docs/PLUGINS.md", "notifier")),
    }
    const run = await validate(files, "sam.config.ts", { CHAT_WEBHOOK: "http://127.0.0.1:9/hook" })
    expectValid(run)
    expect(run.stdout).toContain("plugins: notifier\n")
  })
})

describe("README.md's service under `sam start`", () => {
  it("starts db, then api once db is ready; SIGTERM stops both and SAM exits 0", async () => {
    p = project("sam.yaml")
    writeFileSync(join(p.dir, "sam.yaml"), docBlock("README.md", "service"))
    writeFileSync(
      join(p.dir, "server.js"),
      `require("node:http").createServer((req, res) => res.end("ok")).listen(Number(process.env.PORT), "127.0.0.1")\n`,
    )
    const daemon = await p.start()
    await daemon.waitForOutput("2/2 units ready")
    const output = daemon.output()
    expect(output.indexOf("ready db")).toBeLessThan(output.indexOf("api starting"))
    const api = await daemon.api<{ status: string; ready: boolean; depends_on: string[] }>(
      "GET",
      "/api/services/api",
    )
    expect(api.body).toMatchObject({ status: "running", ready: true, depends_on: ["db"] })
    daemon.child.kill("SIGTERM")
    expect(await daemon.exited).toBe(0)
  })
})

describe("CONFIG.md's sample problems", () => {
  it("are what sam validate prints for such configs, every line", async () => {
    const external = (port: number) => `{ mode: external, url: "http://127.0.0.1:${port}" }`
    const layered = await validate(
      {
        "sam.yaml": [
          "api:",
          "  prot: 1",
          "services:",
          "  a:",
          `    deployment: ${external(1)}`,
          "  b:",
          `    deployment: ${external(2)}`,
          "  web:",
          "    instances: 2",
          `    deployment: ${external(3)}`,
          "",
        ].join("\n"),
        "system.yaml": [
          ...Array.from({ length: 9 }, () => "# system-wide settings"),
          "services:",
          "  qdrant:",
          "    restart_policy: sometimes",
          `    deployment: ${external(4)}`,
          "",
        ].join("\n"),
      },
      "sam.yaml",
      { SAM__api__port: "x" },
    )
    const typed = await validate(
      { "sam.config.ts": '// the config\nexport default {\n  api: { port: "x" },\n}\n' },
      "sam.config.ts",
    )
    expect(layered.code).toBe(2)
    expect(typed.code).toBe(2)
    const printed = `${layered.stderr}${typed.stderr}`.split("\n")
    for (const line of docBlock("docs/CONFIG.md", "config-errors").trimEnd().split("\n"))
      expect(printed, line).toContain(line)
  })
})
