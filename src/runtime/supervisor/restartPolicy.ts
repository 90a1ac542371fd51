// Whether a failed instance is restarted, from its restart type and exit code alone (OTP restart
// types plus systemd's RestartForceExitStatus / RestartPreventExitStatus). Pure; the supervisor
// adds intensity, backoff and strategy on top.
import type { ExitInfo } from "../../actors/lifecycleTypes.ts"
import type { RestartSpec } from "../unitSpec.ts"

export type RestartVerdict = { readonly restart: true } | { readonly restart: false; readonly why: string }

/**
 * @param failure what failed the instance: "exit" (it exited by itself), or "spawn", "setup", "liveness",
 *   "heartbeat", "memory", ... (always abnormal).
 */
export const restartVerdict = (
  policy: RestartSpec,
  failure: string | undefined,
  exit: ExitInfo | undefined,
): RestartVerdict => {
  const code = failure === "exit" ? (exit?.code ?? null) : null
  if (code !== null && policy.preventExitCodes.includes(code)) {
    return { restart: false, why: `exit code ${code} is in no_restart_exit_codes` }
  }
  if (code !== null && policy.forceExitCodes.includes(code)) return { restart: true }
  switch (policy.type) {
    case "permanent":
      return { restart: true }
    case "transient": {
      const clean = failure === "exit" && exit?.code === 0 && !exit.signal
      return clean
        ? { restart: false, why: "clean exit of a transient (on-failure) unit" }
        : { restart: true }
    }
    case "temporary":
      return { restart: false, why: "restart policy is temporary (never)" }
  }
}
