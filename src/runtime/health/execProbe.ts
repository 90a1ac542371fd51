// Exec check: run a shell command (with PORT and SAM_UNIT_ID set); healthy on exit code 0.
// The command runs in its own process group and is killed whole on timeout.
import { spawn } from "node:child_process"
import { signalGroup } from "../processGroup.ts"
import type { ProbeFn } from "./probe.ts"

export const execProbe: ProbeFn = (spec, target, signal) =>
  new Promise((resolve) => {
    if (!spec.command) {
      resolve({ ok: false, detail: "exec check has no command" })
      return
    }
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      SAM_UNIT_ID: target.unit,
    }
    delete env.SAM_VAULT_KEY
    if (target.port !== undefined) env.PORT = String(target.port)
    const child = spawn("/bin/sh", ["-c", spec.command], { env, detached: true, stdio: "ignore" })
    const kill = () => child.pid !== undefined && signalGroup(child.pid, "SIGKILL")
    const timer = setTimeout(kill, spec.timeoutMs)
    signal.addEventListener("abort", kill, { once: true })
    child.once("error", (error) => {
      clearTimeout(timer)
      resolve({ ok: false, detail: `exec: ${error.message}` })
    })
    child.once("exit", (code, sig) => {
      clearTimeout(timer)
      signal.removeEventListener("abort", kill)
      resolve(
        code === 0
          ? { ok: true, detail: `exec "${spec.command}": exit 0` }
          : { ok: false, detail: `exec "${spec.command}": ${sig ? `killed by ${sig}` : `exit ${code}`}` },
      )
    })
  })
