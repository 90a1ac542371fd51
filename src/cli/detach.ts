// `sam start -d`: SAM in the background, as `pm2 start` and `docker compose up -d` leave it. The
// daemon is started again in a session of its own (no terminal to hang up on it); this command
// shows its output until its units are up, or until it fails (then with its exit code), and
// returns: exit 1 when a unit failed to start (SAM runs on and retries it). The daemon carries on with its stdout gone, writing <state_dir>/sam.log as always.
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { failedUnitOf } from "../app/startOutcome.ts"
import { type CommandContext, EXIT_FAILURE, EXIT_OK } from "./command.ts"

/** The line the daemon ends its start-up with (src/app/daemon.ts), once everything is up. */
const upAndRunning = /press Ctrl\+C to stop$/

/** This process's `sam start ...` arguments without -d/--detach. */
const foregroundArgs = (argv: ReadonlyArray<string>): string[] =>
  argv.filter((arg) => arg !== "-d" && arg !== "--detach")

export const runDetached = async ({ io }: CommandContext): Promise<number> => {
  // process.argv: [node, the entry (bin/sam.js or main.ts), "start", ...]
  const [entry, ...args] = process.argv.slice(1)
  if (entry === undefined) return EXIT_FAILURE
  const child = spawn(process.execPath, [...process.execArgv, entry, ...foregroundArgs(args)], {
    cwd: io.cwd,
    // Its output reaches this terminal through a pipe: the daemon may print the login link.
    env: process.stdout.isTTY === true ? { ...io.env, SAM_LOGIN_LINK: "1" } : io.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  })
  const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? EXIT_FAILURE)))
  const spawned = await new Promise<boolean>((resolve) => {
    child.once("spawn", () => resolve(true))
    child.once("error", (error) => {
      io.stderr(`sam: could not start SAM in the background: ${error.message}\n`)
      resolve(false)
    })
  })
  if (!spawned) return EXIT_FAILURE
  const failed: string[] = []
  const up = new Promise<"up">((resolve) => {
    const lines = createInterface({ input: child.stdout })
    lines.on("line", (line) => {
      if (upAndRunning.test(line)) {
        lines.close()
        resolve("up")
        return
      }
      const unit = failedUnitOf(line)
      if (unit !== undefined) failed.push(unit)
      io.stdout(`${line}\n`)
    })
    createInterface({ input: child.stderr }).on("line", (line) => io.stderr(`${line}\n`))
  })
  const outcome = await Promise.race([up, exited])
  if (outcome !== "up") return outcome
  io.stdout(
    `sam: running in the background (pid ${child.pid}); \`sam shutdown\` stops it, \`sam logs -f\` follows its units\n`,
  )
  // Up, but not all of it: a script's `sam start -d && ...` must not go on as if it were.
  if (failed.length > 0)
    io.stderr(
      `sam: ${failed.join(", ")} failed to start (SAM runs on and retries ${failed.length === 1 ? "it" : "them"}: \`sam ps\`, \`sam logs ${failed[0]}\`); exit 1\n`,
    )
  // Let it go: its stdout and stderr end here (it carries on), and this process need not wait.
  child.stdout.destroy()
  child.stderr.destroy()
  child.unref()
  return failed.length > 0 ? EXIT_FAILURE : EXIT_OK
}
