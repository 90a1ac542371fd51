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

/**
 * The autoscaling stories' policy: 1 to 3 instances on a 5% CPU target — well under the fixture's
 * ~30%, since an instance gets less of a core on a loaded machine — with short windows.
 */
export const cpuScaling = {
  min_instances: 1,
  max_instances: 3,
  cpu_threshold: 5,
  scale_up_seconds: 0.4,
  scale_down_seconds: 1,
  cooldown_seconds: 0.4,
}
