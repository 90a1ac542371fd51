// What a SAM process loads just by importing its modules, in a fresh Node: the daemon's and CLI's
// module graphs leave Node's bundled undici alone (src/runtime/os/nodeHttp.ts), and an agent's
// child side (the SDK, its host and loader) loads no package at all, effect included
// (src/agent/toAgentDecoder.ts). bench/RESULTS.md ("Findings") has what each costs.
import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "..", "..")
const probe = join(root, "test", "fixtures", "loadedModules.mjs")
const source = (path: string) => pathToFileURL(join(root, "src", path)).href

const loadedBy = (
  ...modules: ReadonlyArray<string>
): { nodeUndici: boolean; effectHttp: boolean; packages: Array<string> } =>
  JSON.parse(execFileSync(process.execPath, [probe, ...modules], { encoding: "utf8", timeout: 60_000 }))

describe("what importing SAM's modules loads", () => {
  it("the daemon, the control API server and the CLI's client do not load Node's bundled undici", () => {
    const loaded = loadedBy(
      source("app/daemon.ts"),
      source("api/apiServer.ts"),
      source("api/controlClient.ts"),
    )
    expect(loaded.nodeUndici).toBe(false)
    // The HttpApi stack and the gateway's undici come when a request needs them, not before.
    expect(loaded.packages).not.toContain("undici")
    expect(loaded.packages).not.toContain("@effect/platform-node")
    expect(loaded.effectHttp).toBe(false)
  })

  it("an agent child's side of the SDK loads no package, effect included", () => {
    const loaded = loadedBy(
      source("agent/index.ts"),
      source("agent/agentHost.ts"),
      source("agent/loadAgent.ts"),
    )
    expect(loaded).toEqual({ nodeUndici: false, effectHttp: false, packages: [] })
  })
})
