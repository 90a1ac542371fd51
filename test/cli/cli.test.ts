// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests write ${env.X} / ${vault.x} references on purpose
import { existsSync } from "node:fs"
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Command } from "../../src/cli/command.ts"
import { sam } from "../../src/cli/commands.ts"
import { runCli } from "../../src/cli/run.ts"
import { configJsonSchemaText } from "../../src/config/jsonSchema.ts"
import { fakeIo } from "./fakeIo.ts"
import { repoRoot, runSam } from "./runSam.ts"

// Most assertions run the real executable (runSam); cheap variations run in-process (runCli).

const SECRET = "sk-cli-9d3e7a0b41"
let scratch = ""

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "sam-cli-"))
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

/** A directory of its own under the scratch dir, holding `files`. */
const project = async (name: string, files: Record<string, string>): Promise<string> => {
  const dir = join(scratch, name)
  for (const [file, content] of Object.entries(files)) {
    await mkdir(join(dir, file, ".."), { recursive: true })
    await writeFile(join(dir, file), content)
  }
  return dir
}

describe.concurrent("sam --help and usage errors", () => {
  it("prints help for sam and for every command, with --help or sam help", async () => {
    const paths: string[][] = []
    const walk = (command: Command, path: string[]) => {
      paths.push(path)
      for (const sub of command.subcommands ?? []) walk(sub, [...path, sub.name])
    }
    walk(sam, [])
    expect(paths).toEqual(
      expect.arrayContaining([["start"], ["config", "print"], ["capabilities"], ["help"]]),
    )
    for (const path of paths) {
      const io = fakeIo()
      expect(await runCli([...path, "--help"], io), path.join(" ")).toBe(0)
      expect(io.out()).toMatch(new RegExp(`^Usage: ${["sam", ...path].join(" ")}`))
      expect(io.out()).toContain("-h, --help")
      const viaHelp = fakeIo()
      expect(await runCli(["help", ...path], viaHelp), `help ${path.join(" ")}`).toBe(0)
      expect(viaHelp.out()).toBe(io.out())
    }
    const run = await runSam(["--help"])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/start .*\n\s+validate .*\n\s+config .*\n\s+schema .*\n\s+secrets /)
    expect(run.stdout).toMatch(/\n {2}help \[command\] +Show help for sam or for a command\n/)
    const help = await runSam(["help", "config", "print"])
    expect(help).toMatchObject({ code: 0, stdout: (await runSam(["config", "print", "--help"])).stdout })
  })

  it("sam help names an unknown command with a did-you-mean (exit 2)", async () => {
    const run = await runSam(["help", "invok"])
    expect(run).toMatchObject({ code: 2, stdout: "" })
    expect(run.stderr).toBe(
      "sam: unknown command 'invok' (did you mean 'invoke'?)\nRun 'sam --help' for usage.\n",
    )
    const extra = fakeIo()
    expect(await runCli(["help", "ps", "now"], extra)).toBe(2)
    expect(extra.err()).toContain("'sam ps' has no command 'now'")
  })

  it("a mistyped command is never taken for `start`, which would run SAM", async () => {
    const stat = await runSam(["stat"])
    expect(stat).toMatchObject({ code: 2, stdout: "" })
    expect(stat.stderr).toBe(
      "sam: unknown command 'stat' (did you mean 'status'?)\nRun 'sam --help' for usage.\n",
    )
    for (const typo of ["star", "strat", "sart", "tsart", "starts"]) {
      const io = fakeIo()
      expect(await runCli([typo], io), typo).toBe(2)
      expect(io.err(), typo).not.toContain("'start'")
    }
  })

  it("a command PM2 or Compose has names SAM's command for it, and starts nothing", async () => {
    const list = await runSam(["list"])
    expect(list).toMatchObject({
      code: 2,
      stdout: "",
      stderr:
        "sam: unknown command 'list'; SAM's command for it is 'sam ps' (PM2's list)\nRun 'sam --help' for usage.\n",
    })
    const said = async (argv: string[]) => {
      const io = fakeIo()
      expect(await runCli(argv, io), argv.join(" ")).toBe(2)
      return io.err()
    }
    expect(await said(["up", "-d"])).toContain(
      "SAM's command for it is 'sam start' in the foreground, 'sam start -d' detached (Compose's up)",
    )
    expect(await said(["down"])).toContain("'sam shutdown': every unit, then SAM (Compose's down)")
    expect(await said(["delete", "web"])).toContain(
      "'sam stop <id>', then remove it from the config and 'sam reload'",
    )
    expect(await said(["monit"])).toContain("'sam status', or 'sam dashboard'")
    // Only at the top: a subcommand's unknown word is its own matter.
    expect(await said(["secrets", "list2"])).not.toContain("SAM's command")
  })

  it("an unknown command exits 2 naming it, with a did-you-mean", async () => {
    const run = await runSam(["valdate"])
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(run.stderr).toBe(
      "sam: unknown command 'valdate' (did you mean 'validate'?)\nRun 'sam --help' for usage.\n",
    )
    const sub = fakeIo()
    expect(await runCli(["secrets", "lst"], sub)).toBe(2)
    expect(sub.err()).toContain("unknown command 'secrets lst' (did you mean 'list'?)")
    const bare = fakeIo()
    expect(await runCli([], bare)).toBe(2)
    expect(bare.err()).toMatch(/^sam: missing command\n\nUsage: sam/)
  })

  it("a shell line passed as one argument is named as such, not given a did-you-mean", async () => {
    const runs = await Promise.all(
      ["ps|grep web", "ps && ls", "ps>out", "status;ls", "foo|bar", "ps&", "stat"].map((word) =>
        runSam([word]),
      ),
    )
    const pipeline = (op: string) =>
      `: it looks like a shell pipeline passed as one argument (a shell runs '${op}' only outside quotes)`
    expect(runs.map((r) => [r.code, r.stdout, r.stderr.split("\n")[0]])).toEqual([
      [2, "", `sam: unknown command 'ps|grep web'${pipeline("|")}: sam ps | grep web`],
      [2, "", `sam: unknown command 'ps && ls'${pipeline("&&")}: sam ps && ls`],
      [2, "", `sam: unknown command 'ps>out'${pipeline(">")}: sam ps > out`],
      [2, "", `sam: unknown command 'status;ls'${pipeline(";")}: sam status ; ls`],
      // Not a command before the operator: no line to suggest.
      [2, "", `sam: unknown command 'foo|bar'${pipeline("|")}`],
      [2, "", `sam: unknown command 'ps&'${pipeline("&")}: sam ps &`],
      // A typo keeps its did-you-mean.
      [2, "", "sam: unknown command 'stat' (did you mean 'status'?)"],
    ])
    const sub = fakeIo()
    expect(await runCli(["secrets", "list|grep api"], sub)).toBe(2)
    expect(sub.err()).toContain(
      `unknown command 'secrets list|grep api'${pipeline("|")}: sam secrets list | grep api\n`,
    )
  })

  it("help says when a subcommand is optional: a command that also runs by itself", async () => {
    const crashes = fakeIo()
    expect(await runCli(["help", "crashes"], crashes)).toBe(0)
    expect(crashes.out()).toMatch(/^Usage: sam crashes \[<command>\] \[<unit>\] /)
    const secrets = fakeIo()
    expect(await runCli(["help", "secrets"], secrets)).toBe(0)
    expect(secrets.out()).toMatch(/^Usage: sam secrets <command>\n/)
  })

  it("an unknown flag, a missing argument or a bad value exits 2", async () => {
    const run = await runSam(["validate", "--confg", "x"])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("sam: unknown option --confg for 'sam validate' (did you mean --config?)")
    const cases: Array<[Array<string>, string]> = [
      [["secrets", "get"], "'sam secrets get' needs <key>"],
      [["secrets", "get", "a", "b"], "unexpected argument 'b' for 'sam secrets get'"],
      [["start", "--port", "http"], '--port must be 0-65535, found "http"'],
      [["validate", "--config"], "--config needs a value"],
      [
        ["logs", "web", "--since", "-10m"],
        'sam: --since needs a value (one that starts with "-" is written --since=-10m)',
      ],
      // A negative number is a value, not an unknown flag: the command's own check says what fits.
      [["scale", "web", "-1"], 'sam: <n> must be a whole number of instances (0 or more), found "-1"'],
      [["logs", "web", "-n", "-3"], "sam: --lines must be a whole number from 0 to 100000, got '-3'"],
      [["logs", "web", "--instance=-1"], "sam: --instance must be a whole number from 0 to 100000, got '-1'"],
      [
        ["invoke", "greet", "{}", "--timeout", "-2"],
        'sam: --timeout must be seconds above 0 and at most 3600, found "-2"',
      ],
      // --limit is checked before any request, the same in both commands, with the API's bounds.
      [["alerts", "--limit", "0"], "sam: --limit must be a whole number from 1 to 1000, got '0'"],
      [["crashes", "--limit", "abc"], "sam: --limit must be a whole number from 1 to 1000, got 'abc'"],
    ]
    for (const [args, message] of cases) {
      const io = fakeIo()
      expect(await runCli(args, io), args.join(" ")).toBe(2)
      expect(io.err()).toContain(message)
    }
  })
})

describe.concurrent("sam validate", () => {
  it("exits 0 on the seed examples", async () => {
    const runs = await Promise.all(
      ["examples/seed-agent.yaml", "examples/seed-service.yaml"].map((file) =>
        runSam(["validate", "--config", file]),
      ),
    )
    expect(runs.map((r) => [r.code, r.stdout.split("\n")[0]])).toEqual([
      [0, "ok: 1 agent, 0 services"],
      [0, "ok: 0 agents, 1 service"],
    ])
    expect(runs[0]!.stdout).toContain(
      "restart limits:\n  agents.summaryAgent: permanent, 3 restarts in 60s, then retry every 300s; group agents: no group limit (implicit group)\n",
    )
    // The seed scales a container that maps a fixed host port: only one instance can bind it.
    expect(runs[1]!.stderr).toContain(
      "warning: services.qdrant.scaling.max_instances: a container mapping fixed host ports (6333) runs one instance at most",
    )
    // The agent's vault secret is not stored here: a warning for validate, an error for start.
    expect(runs[0]!.stderr).toContain(
      'warning: agents.summaryAgent.environment.OPENAI_API_KEY: secret "openai_key" is not in the vault',
    )
  })

  it("exits 0 on the repo's sam.config.ts", async () => {
    const run = await runSam(["validate"])
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(
      /^ok: 2 agents, 2 services\nrestart limits:\n( {2}.+\n){4}containment: .*(cgroup|process group)/,
    )
    // No cell dir of validate's own: its name would not be the one `sam start` makes.
    expect(run.stdout).not.toMatch(/sam-[0-9a-f]{8}/)
  })

  it("exits 2 on a broken file and lists every problem with file, path and line:column", async () => {
    const dir = await project("broken", {
      "sam.yaml": [
        "api: { prot: 1 }",
        "services:",
        "  qdrant:",
        "    deployment: { mode: container }",
        "    restart_policy: sometimes",
        "    depends_on: [app]",
        "  app:",
        "    deployment: { mode: process, command: x }",
        "    depends_on: [qdrant]",
        "",
      ].join("\n"),
    })
    const run = await runSam(["validate", "--config", "sam.yaml"], { cwd: dir })
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(run.stderr).toBe(
      [
        "sam: invalid configuration, 4 problems:",
        'sam.yaml:1:8 api.prot: unknown key "prot" (did you mean "port"?)',
        'sam.yaml:4:5 services.qdrant.deployment.image: required when mode is "container" (the image to run)',
        'sam.yaml:5:21 services.qdrant.restart_policy: expected "always" | "on-failure" | "never" or an object, found "sometimes"',
        "sam.yaml:9:17 services.app.depends_on: dependency cycle: app -> qdrant -> app",
        // Then what the checks warn about besides.
        'warning: services.qdrant.depends_on[0]: waits for "app" to be ready, but app has no readiness check: it counts as ready once it has started; give app a health_check for qdrant to wait until it answers (or say condition: service_started)',
        'warning: services.app.depends_on[0]: waits for "qdrant" to be ready, but qdrant has no readiness check: it counts as ready once it has started; give qdrant a health_check for app to wait until it answers (or say condition: service_started)',
        "",
      ].join("\n"),
    )
  })

  it("prints the warnings along with the problems of a config that has both", async () => {
    const dir = await project("problems-and-warnings", {
      "sam.yaml": [
        "services:",
        "  web:",
        "    deployment: { mode: process, command: node }",
        "    helth_check: {}",
        "agents:",
        "  helper:",
        "    runtime: sandbox",
        "    path: ./helper",
        "    environment: { API_KEY: '${vault.api_key}' }",
        "    health_check: { endpoint: /health }",
        "",
      ].join("\n"),
    })
    const run = await runSam(["validate", "--config", "sam.yaml"], { cwd: dir })
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(run.stderr).toMatch(/^sam: invalid configuration, 1 problem:\n/)
    expect(run.stderr).toContain(
      'sam.yaml:4:5 services.web.helth_check: unknown key "helth_check" (did you mean "health_check"?)\n',
    )
    // What a valid config would have been warned about is said too, after the problems.
    expect(run.stderr).toContain(
      "\nwarning: agents.helper.health_check.endpoint: not used: an agent has no port, so its check asks the agent's health() hook over IPC (type: heartbeat)\n",
    )
    expect(run.stderr).toMatch(
      /\nwarning: agents\.helper\.environment\.API_KEY: secret "api_key" is not in the vault[^\n]*\n/,
    )
    expect(run.stderr.indexOf("warning:")).toBeGreaterThan(run.stderr.indexOf("helth_check"))
  })

  it("never prints a secret in error output", async () => {
    const dir = await project("secret-error", { "sam.yaml": "api:\n  port: ${env.PORT_SECRET}\n" })
    const run = await runSam(["validate", "--config", "sam.yaml"], { cwd: dir, env: { PORT_SECRET: SECRET } })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('sam.yaml:2:9 api.port: expected a number, found "***"')
    expect(run.stdout + run.stderr).not.toContain(SECRET)
  })

  it("start exits 2 on an invalid config and starts nothing", async () => {
    const dir = await project("start-invalid", {
      "sam.config.ts": "export default { services: { s: { deployment: { mode: 'process' } } } }\n",
    })
    const run = await runSam(["start"], { cwd: dir })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      'sam.config.ts:1:35 services.s.deployment.command: required when mode is "process"',
    )
  })
})

describe("sam secrets and sam config print", () => {
  it("stores a secret from stdin, and config print masks every resolved secret", async () => {
    const dir = await project("vault", {
      "sam.yaml":
        'agents:\n  a:\n    path: /a\n    restart_policy: on-failure\n    environment: { OPENAI_API_KEY: "${vault.openai_key}", TOKEN: "${env.TOKEN}" }\n',
    })
    const set = await runSam(["secrets", "set", "openai_key", "--config", "sam.yaml"], {
      cwd: dir,
      stdin: `${SECRET}\n`,
    })
    expect(set.code).toBe(0)
    expect(set.stdout).toBe(`stored "openai_key" in ${join(dir, ".sam", "vault.json")}\n`)
    expect(set.stderr).toContain(`created vault key file ${join(dir, ".sam", "vault.key")} (mode 0600)`)
    expect((await stat(join(dir, ".sam", "vault.key"))).mode & 0o777).toBe(0o600)
    expect(await readFile(join(dir, ".sam", "vault.json"), "utf8")).not.toContain(SECRET)

    const print = await runSam(["config", "print", "-c", "sam.yaml", "--set", "api.port=8080"], {
      cwd: dir,
      env: { TOKEN: "tok-77aa" },
    })
    expect(print.code).toBe(0)
    expect(print.stdout).toContain("  port: 8080 # cli\n")
    expect(print.stdout).toContain("  host: 127.0.0.1 # defaults\n")
    // A shorthand the file wrote sets one key; the others are the defaults', and say so.
    expect(print.stdout).toContain(
      "      type: transient # sam.yaml (shorthand)\n      max_restarts: 5 # defaults\n",
    )
    expect(print.stdout).toContain('      OPENAI_API_KEY: "***" # sam.yaml\n')
    expect(print.stdout).toContain('      TOKEN: "***" # sam.yaml\n')
    expect(print.stdout + print.stderr).not.toContain(SECRET)
    expect(print.stdout + print.stderr).not.toContain("tok-77aa")

    const json = fakeIo({ cwd: dir, env: { TOKEN: "tok-77aa" } })
    expect(await runCli(["config", "print", "-c", "sam.yaml", "--json"], json)).toBe(0)
    expect(JSON.parse(json.out()).agents.a.environment).toEqual({ OPENAI_API_KEY: "***", TOKEN: "***" })

    const list = fakeIo({ cwd: dir })
    await runCli(["secrets", "list", "-c", "sam.yaml"], list)
    expect(list.out()).toBe("openai_key\n")
    const get = fakeIo({ cwd: dir })
    await runCli(["secrets", "get", "openai_key", "-c", "sam.yaml"], get)
    expect(get.out()).toBe(`${SECRET}\n`)
    const rmIo = fakeIo({ cwd: dir })
    expect(await runCli(["secrets", "rm", "openai_key", "-c", "sam.yaml"], rmIo)).toBe(0)
    expect(rmIo.out()).toBe('removed "openai_key"\n')
    const gone = fakeIo({ cwd: dir })
    expect(await runCli(["secrets", "get", "openai_key", "-c", "sam.yaml"], gone)).toBe(1)
    expect(gone.err()).toContain('no secret "openai_key"')
  })

  it("finds the vault as every command finds the config (a lone sam.yaml, its state_dir), even when the config needs the very secret to validate", async () => {
    const dir = await project("vault-found", {
      // A secret in a typed field: the config does not validate until the secret is set.
      "sam.yaml":
        'runtime: { state_dir: ./state }\nservices:\n  a:\n    deployment: { mode: process, command: sleep, args: ["100"] }\n    restart_policy: "${vault.rp}"\n',
    })
    const set = await runSam(["secrets", "set", "rp", "never"], { cwd: dir })
    expect(set).toMatchObject({ code: 0, stdout: `stored "rp" in ${join(dir, "state", "vault.json")}\n` })
    expect(existsSync(join(dir, ".sam"))).toBe(false)
    // Now it validates, with the secret from the state dir's vault.
    expect((await runSam(["validate"], { cwd: dir })).code).toBe(0)
    // No config here: SAM_STATE_DIR's vault, as the other commands take SAM_STATE_DIR.
    const bare = await project("vault-env", { "notes.txt": "no config here\n" })
    const env = await runSam(["secrets", "set", "k", "v"], { cwd: bare, env: { SAM_STATE_DIR: "elsewhere" } })
    expect(env).toMatchObject({ code: 0, stdout: `stored "k" in ${join(bare, "elsewhere", "vault.json")}\n` })
    // A config that does not even read: its problem, exit 2, nothing written.
    const broken = await project("vault-broken", { "sam.yaml": "services: [oops\n" })
    const refused = await runSam(["secrets", "set", "k", "v"], { cwd: broken })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("sam.yaml")
    expect(existsSync(join(broken, ".sam"))).toBe(false)
  })

  it("config print lists the plugins SAM loads from the plugins/ folder, marked as auto-loaded", async () => {
    const dir = await project("auto-plugins", {
      "sam.yaml": "plugins:\n  - path: ./plugins/named.ts\n",
      "plugins/named.ts": "export default {}\n",
      "plugins/stats/index.ts": "export default {}\n",
      "plugins/_draft.ts": "export default {}\n",
    })
    const print = await runSam(["config", "print", "-c", "sam.yaml"], { cwd: dir })
    expect(print.code).toBe(0)
    expect(print.stdout).toContain(
      `plugins: # sam.yaml\n  - path: ${join(dir, "plugins", "named.ts")} # sam.yaml\n    enabled: true # sam.yaml\n` +
        "  # auto-loaded from plugins/stats (no plugins: entry names it)\n" +
        `  - path: ${join(dir, "plugins", "stats", "index.ts")}\n`,
    )
    expect(print.stdout).not.toContain("_draft")
    // None configured: the folder's plugins alone, still marked.
    const bare = await project("auto-plugins-only", {
      "sam.yaml": "{}\n",
      "plugins/stats.mjs": "export default {}\n",
    })
    const only = await runSam(["config", "print", "-c", "sam.yaml"], { cwd: bare })
    expect(only.stdout).toContain(
      `plugins:\n  # auto-loaded from plugins/stats.mjs (no plugins: entry names it)\n  - path: ${join(bare, "plugins", "stats.mjs")}\n`,
    )
  })

  it("refuses a vault key file readable by others (exit 2)", async () => {
    const dir = await project("loose-key", { "sam.yaml": "{}\n" })
    expect(await runCli(["secrets", "set", "k", "v", "-c", "sam.yaml"], fakeIo({ cwd: dir }))).toBe(0)
    await chmod(join(dir, ".sam", "vault.key"), 0o644)
    const run = await runSam(["secrets", "get", "k", "-c", "sam.yaml"], { cwd: dir })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("has mode 0644; it must be readable by its owner only (chmod 600")
    expect(run.stdout).toBe("")
  })

  it("refuses a secret name it could not store before touching anything (exit 2, no state dir made)", async () => {
    const dir = await project("bad-name", { "sam.yaml": "{}\n" })
    const run = await runSam(["secrets", "set", "bad name", "x", "-c", "sam.yaml"], { cwd: dir })
    expect(run).toMatchObject({
      code: 2,
      stdout: "",
      stderr: 'sam: invalid secret name "bad name" (letters, digits, _ . / -)\n',
    })
    expect(existsSync(join(dir, ".sam"))).toBe(false)
  })
})

describe("sam schema", () => {
  it("writes the JSON Schema to stdout or to --out", async () => {
    const toStdout = await runSam(["schema"])
    expect(toStdout.code).toBe(0)
    expect(toStdout.stdout).toBe(configJsonSchemaText())
    const io = fakeIo({ cwd: scratch })
    expect(await runCli(["schema", "--out", "out/sam.schema.json"], io)).toBe(0)
    expect(await readFile(join(scratch, "out", "sam.schema.json"), "utf8")).toBe(configJsonSchemaText())
  })

  it("is what the examples reference", async () => {
    for (const file of ["examples/seed-agent.yaml", "examples/seed-service.yaml"]) {
      expect(await readFile(join(repoRoot, file), "utf8")).toMatch(
        /^# yaml-language-server: \$schema=\.\.\/schema\/sam\.schema\.json\n/,
      )
    }
  })
})
