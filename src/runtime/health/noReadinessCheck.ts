// The reason an instance with no readiness check is ready at once. Only words: the surfaces tell
// "started" from "ready" by the status' `readinessChecked` (healthMonitor.ts `checksReadiness`).
export const noReadinessCheck = "no readiness check configured"
