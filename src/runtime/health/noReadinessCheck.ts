// The reason an instance with no readiness check is ready at once. Only words: the surfaces tell
// "started" from "ready" by the status' `readinessChecked` (healthMonitor.ts `checksReadiness`).
export const noReadinessCheck = "no readiness check configured"

/** An agent's: it answered `ready` once its module loaded and its `setup` resolved. */
export const agentSetupDone = "the agent is ready: its setup finished"
