// What both dashboard stories (Chromium, Firefox) share: the two services they start from — `db`,
// an HTTP service with a health check, and `api`, which depends on it and logs a tick every
// `tickMs` (the live log tail's material), both restarted at once when killed — and the login
// link `sam dashboard` prints.
import { expect } from "vitest"
import { runSam } from "../cli/runSam.ts"
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

/** The login link `sam dashboard` prints for `token` in the project at `dir`, checked against `url`. */
export const loginLink = async (dir: string, token: string, url: string): Promise<string> => {
  const printed = await runSam(["dashboard", "--config", "sam.config.json"], {
    cwd: dir,
    env: { SAM_TOKEN: token },
  })
  const link = /^dashboard: (\S+)$/m.exec(printed.stdout)?.[1]
  expect(link, printed.stdout + printed.stderr).toBe(`${url}/?token=${encodeURIComponent(token)}`)
  return link as string
}
