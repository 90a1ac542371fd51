// SAM as users get it: `npm pack`, installed into a fresh project from the tarball (its
// dependencies from the registry), then embedded with createSam, run with `npx sam`, and an
// agent importing `sam/agent` run in the sandbox. The README's and docs/AGENTS.md's examples
// are taken from the markdown and run here too. One pack and install for the whole file.
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, dirname, join, relative } from "node:path"
import { createInterface } from "node:readline"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isAlive } from "../../src/runtime/os/proc.ts"
import { repoRoot } from "../cli/runSam.ts"
import { docBlock } from "../support/docBlock.ts"

const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string })
  .version

/**
 * The project's Node first on PATH (the machine's own may be older); nothing of npm's lifecycle
 * (npm_*: `npm test` sets them) or SAM's configuration leaks into the fresh project.
 */
const environment = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(npm_|sam_|vitest|init_cwd$|node_options$)/i.test(key)) continue
    env[key] = value
  }
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`
  return env
}

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Run a command to its end (bounded: a hung one is killed and fails the test). */
const run = (command: string, args: ReadonlyArray<string>, cwd: string, timeoutMs = 60_000): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: environment(), stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

const ok = async (command: string, args: ReadonlyArray<string>, cwd: string, timeoutMs?: number) => {
  const result = await run(command, args, cwd, timeoutMs)
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(" ")} exited ${result.code}:\n${result.stdout}\n${result.stderr}`)
  return result
}

let work: string
let project: string
let installOutput: Run
let daemon: ChildProcess | undefined
let daemonPid: number | undefined

const write = (path: string, text: string) => {
  mkdirSync(dirname(join(project, path)), { recursive: true })
  writeFileSync(join(project, path), text)
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "sam-package-"))
  project = join(work, "project")
  mkdirSync(project)
  // Packed from a copy of the repository: `npm pack` rebuilds dist/ (prepack removes it first),
  // and the files running beside this one serve and run the repository's own dist/.
  const source = join(work, "source")
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
  })
    .toString()
    .split("\0")
    .filter((file) => file !== "" && existsSync(join(repoRoot, file)))
  for (const file of files) {
    mkdirSync(dirname(join(source, file)), { recursive: true })
    copyFileSync(join(repoRoot, file), join(source, file))
  }
  symlinkSync(join(repoRoot, "node_modules"), join(source, "node_modules"), "dir")
  await ok("npm", ["pack", "--pack-destination", work], source, 120_000)
  const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"))
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${work}`)
  await ok("npm", ["init", "-y"], project)
  installOutput = await ok(
    "npm",
    ["install", "--no-audit", "--no-fund", join(work, tarball)],
    project,
    150_000,
  )

  // A service for the embedding example: any HTTP server on $PORT.
  write(
    "server.mjs",
    `import { createServer } from "node:http"
const server = createServer((req, res) => res.end(req.url === "/health" ? "ok" : "hello"))
server.listen(Number(process.env.PORT), "127.0.0.1")
process.on("SIGTERM", () => server.close(() => process.exit(0)))
`,
  )
  // .mts: npm init's package.json says "type": "commonjs", and the README's block is an ES module.
  write("readme-embed.mts", docBlock("README.md", "embed"))
  write("readme-signals.mts", docBlock("README.md", "embed-signals"))
  write(
    "agents/greeter.mjs",
    `import { defineAgent } from "sam/agent"

export default defineAgent({
  capabilities: { greet: (input) => ({ greeting: \`hello, \${input.name}\` }) },
})
`,
  )
  write("agents/tour/package.json", `${JSON.stringify({ type: "module" })}\n`)
  write("agents/tour/index.ts", docBlock("docs/AGENTS.md", "agent"))
  // Type-checked only (below): the docs' plugin and the host wiring, outside plugins/ (auto-loaded).
  write("docs/notifier.mts", docBlock("docs/PLUGINS.md", "notifier"))
  write("docs/plugin-host.mts", docBlock("docs/PLUGINS.md", "plugin-host"))
  // A strict consumer's config and agent: exactOptionalPropertyTypes, an optional field given a
  // `T | undefined`, and nothing of xstate's declarations read (they fail that setting).
  write(
    "typed-config.mts",
    `import { createSam, defineConfig, type InvokeOptions } from "sam"
import { CapabilityError, defineAgent, type StandardSchemaV1 } from "sam/agent"

const detail: string | undefined = process.env.DETAIL
const timeoutMs: number | undefined = process.env.TIMEOUT ? Number(process.env.TIMEOUT) : undefined
declare const Text: StandardSchemaV1<unknown, { text: string }>

export const agent = defineAgent({
  capabilities: {
    shout: { input: Text, description: "upper case", handler: (input) => input.text.toUpperCase() },
    relay: async (_input: unknown, ctx) => {
      try {
        return await ctx.invoke("shout", { text: "x" }, { timeoutMs, signal: ctx.signal })
      } catch (error) {
        if (error instanceof CapabilityError && error.reason === "timeout") return error.agent ?? "none"
        throw error
      }
    },
  },
  health: () => ({ ok: true, detail }),
})
export const options: InvokeOptions = { timeoutMs }
export const config = defineConfig({
  services: { web: { deployment: { mode: "process", command: "node", args: ["server.mjs"] } } },
})
export const start = () => createSam(config)
`,
  )
  // ...and run: a project of its own with one plugin in its plugins/ folder.
  write("plugin-host/run.mts", docBlock("docs/PLUGINS.md", "plugin-host"))
  write("plugin-host/sam.config.ts", `export default { runtime: { state_dir: ".sam" } }\n`)
  write("plugin-host/plugins/hello.mjs", `export default { name: "hello", version: "1.0.0", setup() {} }\n`)
  write(
    "sam.yaml",
    `api:
  port: 0
agents:
  greeter:
    path: agents/greeter.mjs
    runtime: sandbox
    capabilities: [greet]
  tour:
    path: agents/tour
    runtime: sandbox
    capabilities: [echo, shout, count]
`,
  )
  write(
    "tsconfig.json",
    `${JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2024",
        lib: ["es2024", "dom"],
        types: [],
        strict: true,
        noEmit: true,
        // As a strict user checks: every declaration, SAM's and its dependencies' (README).
        skipLibCheck: false,
        exactOptionalPropertyTypes: true,
      },
      files: [
        "typed-config.mts",
        "readme-embed.mts",
        "readme-signals.mts",
        "agents/tour/index.ts",
        "docs/notifier.mts",
        "docs/plugin-host.mts",
      ],
    })}\n`,
  )
}, 180_000)

afterAll(async () => {
  // Only if a test failed half way: the daemon is ours, stop it by its pid.
  if (daemonPid !== undefined && isAlive(daemonPid)) process.kill(daemonPid, "SIGKILL")
  if (daemon && daemon.exitCode === null && daemon.pid !== undefined) daemon.kill("SIGKILL")
  if (work) rmSync(work, { recursive: true, force: true })
})

const pidsIn = (value: unknown): number[] =>
  Array.isArray(value)
    ? value.flatMap(pidsIn)
    : typeof value === "object" && value !== null
      ? Object.entries(value).flatMap(([key, v]) =>
          key === "pid" && typeof v === "number" ? [v] : pidsIn(v),
        )
      : []

describe("the packed package in a fresh project", { timeout: 60_000 }, () => {
  it("ships compiled JavaScript with types, the CLI and the schema, not sources, and installs without scripts", () => {
    const installed = join(project, "node_modules", "sam")
    for (const file of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/agent/index.js",
      "dist/agent/index.d.ts",
      "dist/agent/childMain.js",
      "dist/agent/workerMain.js",
      "dist/plugins/api.js",
      "dist/plugins/api.d.ts",
      "bin/sam.js",
      "schema/sam.schema.json",
      "dist/dashboard/serve.js",
      "dist/dashboard/ui/index.html",
      "dist/dashboard/ui/dashboard.json",
    ])
      expect(existsSync(join(installed, file)), file).toBe(true)
    for (const absent of ["src", "test", "dist/.tsbuildinfo"])
      expect(existsSync(join(installed, absent)), absent).toBe(false)
    // No lifecycle script for npm to run (or warn about) in the user's project.
    expect(installOutput.stderr).not.toMatch(/install scripts|allowScripts/)
  })

  it("ships the docs the README links to: every relative link of README.md and docs/ resolves in the package", () => {
    const installed = join(project, "node_modules", "sam")
    const pages = ["README.md", ...readdirSync(join(installed, "docs")).map((name) => `docs/${name}`)]
    expect(pages).toEqual(expect.arrayContaining(["docs/CONFIG.md", "docs/SECURITY.md", "docs/API.md"]))
    const links = pages.flatMap((page) =>
      [...readFileSync(join(installed, page), "utf8").matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
        .map((m) => m[1] as string)
        .filter((target) => !/^[a-z]+:/.test(target))
        .map((target) => join(dirname(join(installed, page)), target)),
    )
    expect(links.length).toBeGreaterThan(10)
    expect(
      links.filter((target) => !existsSync(target)).map((target) => relative(installed, target)),
    ).toEqual([])
  })

  it("sam, sam/agent and sam/plugin load; the SDK and the plugin API load none of SAM's runtime", async () => {
    write(
      "entries.mjs",
      `import { registerHooks } from "node:module"
const loaded = []
registerHooks({ resolve: (specifier, context, next) => { const r = next(specifier, context); loaded.push(r.url); return r } })
const agent = await import("sam/agent")
const agentFiles = loaded.splice(0)
const plugin = await import("sam/plugin")
const pluginFiles = loaded.splice(0)
const sam = await import("sam")
console.log(JSON.stringify({
  agent: typeof agent.defineAgent, plugin: typeof plugin.definePlugin, reply: typeof plugin.reply,
  createSam: typeof sam.createSam, sameDefineAgent: sam.defineAgent === agent.defineAgent,
  errors: ["StateDirInUse", "SamStopping", "UnitNotFound", "CommandRefused", "ScaleRefused", "CapabilityError", "ConfigError"].filter((n) => typeof sam[n] !== "function"),
  agentFiles, pluginFiles,
}))
`,
    )
    const { stdout } = await ok(process.execPath, ["entries.mjs"], project)
    const seen = JSON.parse(stdout) as Record<string, unknown> & {
      agentFiles: string[]
      pluginFiles: string[]
    }
    expect(seen).toMatchObject({
      agent: "function",
      plugin: "function",
      reply: "function",
      createSam: "function",
      sameDefineAgent: true,
      // The README's list of the error classes `sam` exports: none missing.
      errors: [],
    })
    const dist = `file://${join(project, "node_modules", "sam", "dist")}`
    expect(seen.agentFiles.length).toBeGreaterThan(0)
    for (const url of seen.agentFiles) expect(url).toMatch(new RegExp(`^${dist}/agent/[^/]+\\.js$`))
    expect(seen.pluginFiles.length).toBeGreaterThan(0)
    for (const url of seen.pluginFiles)
      expect(url).toMatch(new RegExp(`^${dist}/plugins/(api|definePlugin|reply)\\.js$`))
  })

  it("the README's embedding example runs: the service becomes ready, and no process is left after stop", async () => {
    const { stdout } = await ok(process.execPath, ["readme-embed.mts"], project)
    expect(stdout).toMatch(/^web: \S+ -> running\.ready$/m)
    expect(stdout).toMatch(/state: 'running'/)
    expect(stdout).toMatch(/ready: true/)
    const pid = Number(/pid: (\d+)/.exec(stdout)?.[1])
    expect(pid).toBeGreaterThan(0)
    expect(isAlive(pid)).toBe(false)
  })

  it("the README's signal example: Ctrl+C stops the units with their stop signal before the program exits", async () => {
    const program = spawn(process.execPath, ["readme-signals.mts"], {
      cwd: project,
      stdio: ["ignore", "pipe", "pipe"],
    })
    let out = ""
    const pid = await new Promise<number>((resolve, reject) => {
      program.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString()
        const found = /^web pid (\d+)$/m.exec(out)
        if (found) resolve(Number(found[1]))
      })
      program.once("exit", (code) => reject(new Error(`exited with ${code} before web started: ${out}`)))
    })
    const exited = new Promise<number | null>((resolve) => program.once("exit", (code) => resolve(code)))
    program.kill("SIGINT")
    // Exit 0 from the handler, and web already gone then: it was stopped, not left to the reaper.
    expect(await exited).toBe(0)
    expect(isAlive(pid)).toBe(false)
  })

  it("the plugin host example of docs/PLUGINS.md runs: the project's plugin loads, and the program exits after stop", async () => {
    const { stdout } = await ok(process.execPath, ["run.mts"], join(project, "plugin-host"))
    expect(stdout.trim()).toBe("[ 'hello: running' ]")
  })

  it("docs/PLUGINS.md's way to read the effect version SAM depends on prints it", async () => {
    const { stdout } = await ok(
      process.execPath,
      ["-p", "require('sam/package.json').dependencies.effect"],
      project,
    )
    const ours = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
      dependencies: Record<string, string>
    }
    expect(stdout.trim()).toBe(ours.dependencies.effect)
  })

  it("on the machine's old Node (20) the library says which Node it needs, not what that Node lacks", async () => {
    const oldNode = "/usr/bin/node"
    expect(existsSync(oldNode), `${oldNode} (the machine's Node 20) is missing`).toBe(true)
    const result = await run(oldNode, ["--input-type=module", "-e", 'await import("sam")'], project)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain("Error: SAM needs Node >= 24; this is Node 20.")
    expect(result.stderr).toContain("`npm install --save-dev node@26`")
    expect(result.stderr).not.toContain("ERR_UNKNOWN_BUILTIN_MODULE")
  })

  it("npx sam --version prints the package's version", async () => {
    const { stdout } = await ok("npx", ["sam", "--version"], project)
    expect(stdout.trim()).toContain(version)
  })

  it("the README tour's validate step runs on the examples the package ships", async () => {
    const { stdout } = await ok(
      "npx",
      ["sam", "validate", "--config", "node_modules/sam/examples/seed-service.yaml"],
      project,
    )
    expect(stdout).toMatch(/^ok: \d+ agents?, \d+ services?\n/)
  })

  it("npx sam startup's unit runs the installed package's sam on the project's config", async () => {
    const config = join(project, "node_modules", "sam", "examples", "seed-service.yaml")
    const { stdout } = await ok("npx", ["sam", "startup", "--config", config], project)
    expect(stdout).toContain(
      `\nExecStart=${process.execPath} ${join(project, "node_modules", "sam", "bin", "sam.js")} start --config ${config}\n`,
    )
  })

  it("agents importing sam/agent (plain .mjs, and the docs' TypeScript example) run sandboxed under npx sam start", async () => {
    const started = spawn("npx", ["sam", "start", "--config", "sam.yaml"], {
      cwd: project,
      env: environment(),
      stdio: ["ignore", "pipe", "pipe"],
    })
    daemon = started
    const output: string[] = []
    const exited = new Promise<number | null>((resolve) => started.on("close", resolve))
    const ready = new Promise<string>((resolve, reject) => {
      for (const stream of [started.stdout, started.stderr])
        createInterface({ input: stream }).on("line", (line) => {
          output.push(line)
          if (/units ready in/.test(line)) resolve(line)
        })
      void exited.then((code) => reject(new Error(`sam start exited ${code}:\n${output.join("\n")}`)))
    })
    expect(await ready).toMatch(/^sam: 2\/2 units ready in/)
    const api = JSON.parse(readFileSync(join(project, ".sam", "api.json"), "utf8")) as {
      pid: number
      url: string
    }
    daemonPid = api.pid

    // The dashboard ships built: the page SAM serves at / loads its hashed script from /assets/.
    const tokenFile = join(project, ".sam", "token")
    const token = existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : ""
    const login = await fetch(`${api.url}/?token=${encodeURIComponent(token)}`, { redirect: "manual" })
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? ""
    const page = login.status === 303 ? await fetch(`${api.url}/`, { headers: { cookie } }) : login
    const html = await page.text()
    const script = /src="(\/assets\/index-[\w-]+\.js)"/.exec(html)?.[1]
    expect(script, html).toBeDefined()
    const asset = await fetch(`${api.url}${script}`, { headers: { cookie } })
    expect(asset.status).toBe(200)
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8")

    const invoke = (...args: string[]) =>
      run("npx", ["sam", "invoke", ...args, "--config", "sam.yaml"], project)
    const greeted = await invoke("greet", '{"name":"Ada"}')
    expect(JSON.parse(greeted.stdout)).toEqual({ greeting: "hello, Ada" })
    expect(greeted.stderr).toMatch(/served by greeter/)
    expect((await invoke("shout", '{"text":"quiet"}')).stdout.trim()).toBe("QUIET")
    const invalid = await invoke("shout", '{"text":1}')
    expect(invalid.code).not.toBe(0)
    expect(invalid.stderr).toContain("invalid input: text: expected a string")
    expect((await invoke("count", '{"to":3}', "--stream")).stdout.trim().split("\n")).toEqual(["1", "2", "3"])

    const { stdout } = await ok("npx", ["sam", "ps", "--json", "--config", "sam.yaml"], project)
    const agentPids = pidsIn(JSON.parse(stdout))
    expect(agentPids.length).toBeGreaterThanOrEqual(2)

    // The daemon itself, not npx (npm does not pass SIGTERM through its `sh -c`).
    process.kill(daemonPid, "SIGTERM")
    expect(await exited).toBe(0)
    expect([daemonPid, ...agentPids].filter(isAlive)).toEqual([])
  })

  it("the shipped type declarations check the docs' examples and a strict consumer's config (exactOptionalPropertyTypes, skipLibCheck false)", async () => {
    const tsc = join(repoRoot, "node_modules", ".bin", "tsc")
    const result = await run(tsc, ["-p", "tsconfig.json"], project)
    expect(result.stdout + result.stderr).toBe("")
    expect(result.code).toBe(0)
  })
})
