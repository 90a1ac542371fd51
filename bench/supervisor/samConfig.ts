// The sam.config.json the SAM tools run: one service per port, the same program and Node, an HTTP
// health check as a user would write it, and restarts without backoff (PM2 gets restart_delay: 0).
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import type { ServiceSet } from "./tool.ts"

export const serviceId = (index: number): string => `s${index}`

/** Writes `<dir>/sam.config.json` (state dir `<dir>/state`, API on 127.0.0.1 port 0); returns its path. */
export const writeSamConfig = (
  dir: string,
  services: ServiceSet,
  extra: Record<string, unknown> = {},
): string => {
  const config = {
    api: { host: "127.0.0.1", port: 0 },
    runtime: { state_dir: join(dir, "state") },
    services: Object.fromEntries(
      services.ports.map((port, index) => [
        serviceId(index),
        {
          deployment: { mode: "process", command: services.node, args: [services.program], port },
          health_check: { endpoint: "/health" },
          restart_policy: { type: "always", backoff_seconds: 0, max_restarts: 100_000, window_seconds: 60 },
        },
      ]),
    ),
    ...extra,
  }
  const file = join(dir, "sam.config.json")
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`)
  return file
}
