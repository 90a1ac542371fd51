// The autoscaling tests' service: test/fixtures/cpu-service.mjs (about 30 % of a core while its
// flag file exists, idle otherwise) as a config entry with a fast readiness check and `scaling`.
import { fixture } from "./runtime.ts"

export const cpuService = (flag: string, scaling: Record<string, number>) => ({
  deployment: {
    mode: "process",
    command: process.execPath,
    args: [fixture("cpu-service.mjs")],
    env: { LOAD_FILE: flag, DUTY: "30" },
  },
  health_check: { endpoint: "/health", interval_seconds: 0.1, kind: "readiness" },
  scaling,
})
