// A service's circuit breaker as a pure XState machine: closed → open (the window's failure or
// slow-call rate crossed its threshold) → halfOpen after openMs → closed when the probe calls
// all succeeded, open again on the first failed one. Only transitions come here: the gateway
// counts calls in plain ring buffers (src/gateway/circuitBreaker.ts) and sends TRIP, PROBE_*.
import { assign, setup } from "xstate"

export type BreakerState = "closed" | "open" | "halfOpen"

export interface BreakerInput {
  readonly openMs: number
  readonly halfOpenRequests: number
}

export interface BreakerContext extends BreakerInput {
  /** Probe calls that succeeded in this half-open spell. */
  readonly probesPassed: number
  /** Why it last opened. */
  readonly reason: string
  /** How many times it opened. */
  readonly opened: number
}

export type BreakerEvent =
  /** The window crossed a threshold (closed only). */
  | { type: "TRIP"; reason: string }
  /** A half-open probe call succeeded. */
  | { type: "PROBE_PASSED" }
  /** A half-open probe call failed. */
  | { type: "PROBE_FAILED"; reason: string }
  /** Close now (an operator, or a config change that disabled the breaker). */
  | { type: "RESET" }

export const breakerMachine = setup({
  types: {
    context: {} as BreakerContext,
    events: {} as BreakerEvent,
    input: {} as BreakerInput,
  },
  delays: {
    openFor: ({ context }) => context.openMs,
  },
  guards: {
    lastProbe: ({ context }) => context.probesPassed + 1 >= context.halfOpenRequests,
  },
  actions: {
    opened: assign({
      opened: ({ context }) => context.opened + 1,
      reason: ({ event }) => ("reason" in event ? event.reason : ""),
      probesPassed: 0,
    }),
    probePassed: assign({ probesPassed: ({ context }) => context.probesPassed + 1 }),
  },
}).createMachine({
  id: "breaker",
  context: ({ input }) => ({ ...input, probesPassed: 0, reason: "", opened: 0 }),
  initial: "closed",
  on: { RESET: ".closed" },
  states: {
    closed: {
      on: { TRIP: { target: "open", actions: "opened" } },
    },
    open: {
      after: { openFor: "halfOpen" },
    },
    halfOpen: {
      entry: assign({ probesPassed: 0 }),
      on: {
        PROBE_PASSED: [{ guard: "lastProbe", target: "closed" }, { actions: "probePassed" }],
        PROBE_FAILED: { target: "open", actions: "opened" },
      },
    },
  },
})
