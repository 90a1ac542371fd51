// PM2 7, installed by the bench into a temp dir (`npm install --prefix <dir> pm2@7`), run with the
// project's Node and a PM2_HOME of its own per start, an ecosystem file with the same program and
// restart_delay 0. Its memory is the God daemon's tree. `pm2 kill` ends it; whatever it left of
// the pids the bench saw is killed and said.
import { spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { isAlive } from "../../src/runtime/os/proc.ts"
import { killLeft } from "../harness/cleanup.ts"
import type { BenchContext } from "../harness/context.ts"
import { treeOf } from "../harness/procTree.ts"
import { pollUntil } from "../harness/servicePoll.ts"
import type { ServiceSet, SupervisorTool } from "./tool.ts"

const PM2_VERSION = "7"

let installed: string | undefined

/** Run `command args` to its end with `env`; rejects with its output when it fails or hangs. */
const runToEnd = (
  command: string,
  args: ReadonlyArray<string>,
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs)
    child.once("error", reject)
    child.once("close", (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${output.slice(-2_000)}`))
    })
  })

const baseEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" })

/** What npm needs from the bench's environment to reach the registry: proxies and extra CAs. */
const registryEnv = (): Record<string, string> => {
  const passed = Object.entries(process.env).filter(
    ([name, value]) =>
      value !== undefined &&
      /^(https?_proxy|no_proxy|node_extra_ca_certs|ssl_cert_file|ssl_cert_dir)$/i.test(name),
  ) as Array<[string, string]>
  return { ...baseEnv(), ...Object.fromEntries(passed) }
}

const ecosystem = (services: ServiceSet): string => {
  const apps = services.ports.map((port, index) => ({
    name: `s${index}`,
    script: services.program,
    interpreter: services.node,
    exec_mode: "fork",
    env: { PORT: String(port) },
    autorestart: true,
    restart_delay: 0,
    max_restarts: 100_000,
  }))
  return `module.exports = ${JSON.stringify({ apps }, null, 2)}\n`
}

export const pm2: SupervisorTool = {
  id: "pm2",
  subject: `PM2 ${PM2_VERSION}`,
  prepare: async (context: BenchContext) => {
    if (installed) return
    const dir = context.tempDir("pm2-install")
    context.log(`bench: installing pm2@${PM2_VERSION} into ${dir}`)
    await runToEnd("npm", ["install", "--prefix", dir, "--no-audit", "--no-fund", `pm2@${PM2_VERSION}`], {
      cwd: dir,
      // Without the CA bundle a TLS-intercepting proxy makes npm retry until the timeout.
      env: registryEnv(),
      timeoutMs: 180_000,
    })
    const cli = join(dir, "node_modules", "pm2", "bin", "pm2")
    if (!existsSync(cli)) throw new Error(`bench: npm installed pm2 but ${cli} is missing`)
    installed = cli
  },
  start: async (services, context) => {
    const cli = installed
    if (!cli) throw new Error("bench: pm2 was not prepared (prepare() installs it)")
    const dir = context.tempDir("pm2")
    const home = join(dir, "home")
    const env = { ...baseEnv(), PM2_HOME: home }
    const file = join(dir, "ecosystem.config.cjs")
    writeFileSync(file, ecosystem(services))
    const pidFile = join(home, "pm2.pid")
    // Every pid the bench saw of this PM2: what is still alive after `pm2 kill` is killed and said.
    const seen = new Set<number>()
    let godPid: number | undefined
    const kill = async () => {
      if (godPid !== undefined) for (const pid of treeOf(godPid)) seen.add(pid)
      await runToEnd(context.node, [cli, "kill"], { cwd: dir, env, timeoutMs: 60_000 }).catch(
        (error: unknown) => context.log(`bench: pm2 kill failed: ${String(error)}`),
      )
      if (godPid !== undefined) {
        const god = godPid
        await pollUntil("PM2's God daemon gone", async () => !isAlive(god), 10_000, 20).catch(() => undefined)
      }
      const left = killLeft(seen)
      if (left.length > 0) context.log(`bench: pm2 kill left pids ${left.join(", ")} running; killed them`)
    }
    const forget = context.cleanup.add(`PM2 (PM2_HOME ${home})`, kill)
    // `pm2 start` boots the God daemon, which starts the apps; the bench polls from before this.
    const starting = runToEnd(context.node, [cli, "start", file], { cwd: dir, env, timeoutMs: 120_000 })
    let failure: string | undefined
    starting.catch((error: unknown) => {
      failure = String(error)
    })
    const readGod = (): number | undefined => {
      if (godPid !== undefined) return godPid
      if (!existsSync(pidFile)) return undefined
      const pid = Number(readFileSync(pidFile, "utf8").trim())
      if (Number.isInteger(pid) && pid > 0) godPid = pid
      return godPid
    }
    return {
      get supervisorPid() {
        return readGod()
      },
      problem: () => failure,
      stop: async () => {
        forget()
        await starting.catch(() => undefined)
        readGod()
        await kill()
      },
    }
  },
}
