// `sam start` (described in commands.ts): load the config (exit 2 on any problem, nothing
// started), then run the daemon (src/app/daemon.ts) in the foreground until SIGINT/SIGTERM.
// `sam start <id>` instead starts one unit of the running SAM through its control API
// (lifecycleCommands.ts). A state dir another SAM holds is refused: exit 1, nothing touched.
// `sam start -d` runs the daemon in the background (detach.ts).

import { setFlagsFromString } from "node:v8"
import type { StateDirLock } from "../runtime/store/stateDirLock.ts"
import { type CommandRun, EXIT_FAILURE, EXIT_USAGE, listOption, stringOption, UsageError } from "./command.ts"
import { loadFromOptions, printWarnings } from "./configOptions.ts"

export const run: CommandRun = async (context) => {
  if (context.positionals[0] !== undefined) {
    const { lifecycleRun } = await import("./lifecycleCommands.ts")
    return lifecycleRun("start")(context)
  }
  if (context.values.detach === true) {
    const { runDetached } = await import("./detach.ts")
    return runDetached(context)
  }
  // The daemon is long-lived and mostly waits: V8's memory-over-speed trade-off keeps it some MB
  // smaller (bench/RESULTS.md, "Findings"). Set before the rest of SAM loads and its heap grows.
  setFlagsFromString("--optimize-for-size")
  const { values, io } = context
  const overrides: Array<string> = []
  const host = stringOption(values, "host")
  const port = stringOption(values, "port")
  if (host !== undefined) overrides.push(`api.host=${JSON.stringify(host)}`)
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) > 65535)
      throw new UsageError(`--port must be 0-65535, found "${port}"`, ["sam", "start"])
    overrides.push(`api.port=${port}`)
  }
  const loaded = await loadFromOptions(io, values, { cliOverrides: overrides })
  if (loaded === undefined) return EXIT_USAGE
  printWarnings(io, loaded.warnings)
  // The state dir first, before the rest of SAM loads: a second SAM on it is told at once,
  // and touches nothing of the first.
  const { acquireStateDir, StateDirInUse, StateDirLockFailed } = await import(
    "../runtime/store/stateDirLock.ts"
  )
  let stateDirLock: StateDirLock
  try {
    stateDirLock = acquireStateDir(loaded.config.runtime.state_dir)
  } catch (error) {
    if (error instanceof StateDirInUse) {
      // What a Compose user does next: `up -d` again would apply the config; SAM already does.
      io.stderr(
        `sam: ${error.message}: SAM is running already (it applies edits to the config by itself; \`sam reload\` applies them now, \`sam ps\` shows its units, \`sam shutdown\` stops it)\n`,
      )
      return EXIT_FAILURE
    }
    // Its message says what is wrong with the dir and what to do: no stack trace.
    if (error instanceof StateDirLockFailed) {
      io.stderr(`sam: ${error.message}\n`)
      return EXIT_FAILURE
    }
    throw error
  }
  try {
    const { runDaemon } = await import("../app/daemon.ts")
    // The reloader re-reads the files with the same flags, so --set keeps winning after an edit.
    return await runDaemon(loaded, {
      cliOverrides: [...listOption(values, "set"), ...overrides],
      stateDirLock,
      watch: values["no-watch"] !== true,
    })
  } finally {
    // SAM releases it when it stops; this covers a return before SAM took it over.
    stateDirLock.release()
  }
}
