// Capability invocations through the router: how many by capability and result (ok, or the
// failure: not_found, unavailable, queue_full, timeout, cancelled, too_large, too_deep, failed) and how long they took.
import { Counter, Histogram, type Registry } from "prom-client"
import type { InvocationRecord } from "../runtime/capabilities/capabilityRouter.ts"
import type { Sam } from "../runtime/sam.ts"

const buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

export const registerCapabilitySeries = (
  registry: Registry,
  sam: Pick<Sam, "capabilities">,
  onInvocation?: (record: InvocationRecord) => void,
): (() => void) => {
  const invocations = new Counter({
    name: "sam_capability_invocations_total",
    help: "Capability invocations by capability and result (ok, not_found, unavailable, queue_full, timeout, cancelled, too_large, too_deep, failed).",
    labelNames: ["capability", "result"],
    registers: [registry],
  })
  const duration = new Histogram({
    name: "sam_capability_duration_seconds",
    help: "How long capability invocations took (queueing included), by capability and result.",
    labelNames: ["capability", "result"],
    buckets,
    registers: [registry],
  })
  return sam.capabilities.observeInvocations((record) => {
    const labels = { capability: record.capability, result: record.result }
    invocations.inc(labels)
    duration.observe(labels, record.durationSeconds)
    onInvocation?.(record)
  })
}
