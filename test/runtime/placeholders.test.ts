import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { expandPlaceholders } from "../../src/config/placeholders.ts"
import { runSam } from "../cli/runSam.ts"
import { fixture, type Harness, harness, httpCheck, nodeService } from "../support/runtime.ts"

let h: Harness | undefined
const dirs: string[] = []
afterEach(async () => {
  await h?.dispose()
  h = undefined
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe("${sam.*} placeholders in a process's command, args and env", () => {
  it("are filled in at each spawn with the instance's port and its dependencies' URLs", async () => {
    const db = nodeService("db", "http-service.mjs", { probes: [httpCheck()] })
    const api = nodeService("api", "argv-service.mjs", {
      dependsOn: ["db"],
      probes: [httpCheck({ endpoint: "/" })],
      env: { DB_URL: "${sam.url.db}/v1" },
    })
    h = harness([
      db,
      {
        ...api,
        process: {
          ...api.process!,
          args: [fixture("argv-service.mjs"), "${sam.port}", "${sam.unit}#${sam.instance}"],
        },
      },
    ])
    await h.supervisor.startAll()
    const line = await h.nextLine("api", (l) => l.startsWith("argv "))
    const port = h.supervisor.status("api").instances[0]!.port
    const dbUrl = h.supervisor.status("db").instances[0]!.url
    expect(line).toBe(`argv ${JSON.stringify([String(port), "api#0"])} env ${dbUrl}/v1`)
    expect(h.supervisor.status("api")).toMatchObject({ state: "running", ready: true })
  })

  it("an unknown name, or a URL of a unit that is not a dependency, is a config error with its place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-placeholders-"))
    dirs.push(dir)
    writeFileSync(
      join(dir, "sam.yaml"),
      [
        "services:",
        "  db: { deployment: { mode: external, url: 'http://127.0.0.1:1' } }",
        "  api:",
        "    deployment:",
        "      mode: process",
        "      command: python3",
        '      args: ["-m", "http.server", "${sam.prot}", "${sam.url.db}"]',
        "",
      ].join("\n"),
    )
    const run = await runSam(["validate", "--config", "sam.yaml"], { cwd: dir })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      "sam.yaml:7:35 services.api.deployment.args[2]: unknown placeholder ${sam.prot}: use ${sam.port}, ${sam.instance}, ${sam.unit} or ${sam.url.<dependency>}",
    )
    expect(run.stderr).toContain(
      'services.api.deployment.args[3]: ${sam.url.db} names "db", which is not in depends_on',
    )
  })

  it("expand only what they name, and leave other text alone", () => {
    const values = { unit: "web", instance: 2, port: 8080, urls: { db: "http://127.0.0.1:5432" } }
    expect(expandPlaceholders("--port=${sam.port} ${sam.url.db} ${env.X} $HOME", values)).toBe(
      "--port=8080 http://127.0.0.1:5432 ${env.X} $HOME",
    )
  })
})
