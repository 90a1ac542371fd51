// The two services both dashboard stories (Chromium, Firefox) start from: `db`, an HTTP service
// with a health check, and `api`, which depends on it and logs a tick every `tickMs` (the live log
// tail's material). Both restart at once when killed.
import { fixturePath } from "./daemon.ts"

export const dashboardServices = (tickMs: number) => ({
  db: {
    deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
    health_check: { endpoint: "/health", interval_seconds: 1, timeout_seconds: 1 },
    restart_policy: { type: "always", backoff_seconds: 0.2 },
  },
  api: {
    deployment: {
      mode: "process",
      command: process.execPath,
      args: [fixturePath("chatty.mjs")],
      env: { TICK_MS: String(tickMs) },
    },
    depends_on: ["db"],
    restart_policy: { type: "always", backoff_seconds: 0.2 },
  },
})
