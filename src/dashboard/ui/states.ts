// The colour family of each lifecycle state, shared by unit cards, graph nodes and the timeline:
// ok (running and ready), busy (on its way), idle (stopped, suspended), warn (backoff, not ready),
// bad (error, crashed).

import { degradedOf } from "../../api/degraded.ts"

export type Tone = "ok" | "busy" | "idle" | "warn" | "bad"

/** A unit's state (`running`, or a transition's `running.ready`) and readiness as a tone. */
export const toneOf = (state: string, ready?: boolean): Tone => {
  if (state === "running.ready") return "ok"
  if (state === "running.unready") return "warn"
  const base = state.split(".")[0] ?? state
  switch (base) {
    case "running":
      return ready === false ? "warn" : "ok"
    case "starting":
    case "stopping":
      return "busy"
    case "stopped":
    case "suspended":
      return "idle"
    case "backoff":
      return "warn"
    default:
      return "bad"
  }
}

/**
 * What to call a state on the page: `running` splits into ready and not ready; one with no
 * readiness check is only running (nothing was checked), as Compose shows "Up" without "(healthy)".
 */
export const stateLabel = (state: string, ready: boolean, checked = true): string =>
  state !== "running" ? state : !ready ? "running, not ready" : checked ? "ready" : "running"

/**
 * The header's count of units: ready, degraded (serving while some of its instances are down),
 * settling (on its way or not ready yet), failing, stopped.
 */
export interface HeaderCounts {
  readonly ready: number
  /** Up, with no readiness check to pass: only `running` (nothing was checked), as its card says. */
  readonly running: number
  readonly degraded: number
  readonly settling: number
  readonly failing: number
  readonly stopped: number
}

/**
 * A unit in backoff is failing, not settling: it is there because it failed, and a crash loop
 * spends most of its time there (its card keeps the warn colour of a retry that may still work).
 * A unit of several instances that still serves while one of them is down is degraded, not
 * failing (its status is its worst instance's, so it would otherwise count as down).
 */
export const headerCounts = (
  units: ReadonlyArray<
    Parameters<typeof degradedOf>[0] & { readonly ready: boolean; readonly readiness_checked?: boolean }
  >,
): HeaderCounts => {
  let ready = 0
  let running = 0
  let degraded = 0
  let settling = 0
  let failing = 0
  let stopped = 0
  for (const u of units) {
    const tone = toneOf(u.status, u.ready)
    if (degradedOf(u) !== undefined) degraded++
    else if (tone === "ok" && u.readiness_checked === false) running++
    else if (tone === "ok") ready++
    else if (tone === "idle") stopped++
    else if (tone === "bad" || u.status === "backoff") failing++
    else settling++
  }
  return { ready, running, degraded, settling, failing, stopped }
}

/**
 * Why `command` cannot be taken by a unit in `state` (the lifecycle would refuse it with a 409,
 * docs/LIFECYCLE.md), or undefined when it can: the card disables the control and says why.
 */
export const commandRefusal = (state: string, command: string): string | undefined => {
  const base = state.split(".")[0] ?? state
  switch (command) {
    case "start":
      if (base === "running") return "it is running: restart it instead"
      if (base === "starting") return "it is starting already"
      if (base === "suspended") return "it is suspended: resume it instead"
      return undefined
    case "stop":
      return base === "stopped" ? "it is stopped already" : undefined
    case "suspend":
      return base === "running" ? undefined : `only a running unit can be suspended; it is ${base}`
    case "resume":
      return base === "suspended" ? undefined : `only a suspended unit can be resumed; it is ${base}`
    default:
      return undefined
  }
}
