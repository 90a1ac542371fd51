// The records the runtime store keeps, one interface per table, and the change records its
// watchers receive (storeChanges.ts). Table modules (desiredState.ts, ...) read and write these.

/** How many instances a unit was last scaled to; see scaledInstances.ts for when it is kept. */
export interface ScaledInstances {
  readonly unit: string
  readonly instances: number
  /** Who scaled it ("operator:alice", "autoscaler", "library"). */
  readonly by: string
  readonly at: string
  readonly configHash: string
}

/** What an operator (or config) wants a unit to be; see desiredState.ts for when it is kept. */
export interface DesiredState {
  readonly unit: string
  readonly state: "running" | "stopped"
  /** Who set it: "operator:<name>", "api", "cli", "config". */
  readonly by: string
  /** ISO time it was set. */
  readonly at: string
  /** Hash of the unit's config when it was set; a different hash clears it. */
  readonly configHash: string
}

/** A process SAM last knew running for an instance. */
export interface InstanceRecord {
  readonly unit: string
  readonly instance: number
  readonly pid: number
  /** /proc/<pid>/stat start time (clock ticks since boot): tells a reused pid apart. */
  readonly startTime: string
  /** The containment cell (cgroup dirs or a cell id), opaque to the store. */
  readonly cell: string
  readonly port: number | null
  /** ISO time of the spawn. */
  readonly startedAt: string
}

export interface PortAssignment {
  readonly unit: string
  readonly instance: number
  readonly port: number
}

/** Restart bookkeeping of one instance key (e.g. "web#0"), kept across SAM restarts. */
export interface RestartWindowRecord {
  readonly key: string
  /** Restart times (ms since the epoch) inside the current intensity window. */
  readonly stamps: ReadonlyArray<number>
  readonly consecutiveFailures: number
  readonly restarts: number
}

/** One SAM process that ran on this state dir. */
export interface SamRun {
  readonly samId: string
  readonly pid: number
  readonly startTime: string
  readonly startedAt: string
  /** ISO time of a clean stop; null while running, and forever for a SAM that died hard. */
  readonly stoppedAt: string | null
  /** The cgroup dirs it created (what a successor sweeps when it died hard). */
  readonly cgroupDirs: ReadonlyArray<string>
}

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** One line of output quoted in a crash report. */
export interface CrashLine {
  /** ISO time SAM read it. */
  readonly time: string
  readonly stream: string
  readonly line: string
}

export interface CrashReportInput {
  readonly unit: string
  readonly instance: number
  /** ISO time of the exit. */
  readonly time: string
  /** What failed: "exit", or the limit it was killed for ("liveness", "heartbeat", "memory", ...). */
  readonly failure: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly reason: string
  readonly uptimeMs: number
  readonly restarts: number
  /** The incarnation's last lines of output, both streams, oldest first. */
  readonly lastLines: ReadonlyArray<CrashLine>
  readonly resources: { readonly [key: string]: Json }
}

export interface CrashReport extends CrashReportInput {
  readonly id: number
}

export type AlertState = "pending" | "firing" | "resolved"

export interface AlertInput {
  readonly rule: string
  readonly unit: string | null
  readonly state: AlertState
  readonly startedAt: string
  readonly endedAt: string | null
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
}

export interface AlertRecord extends AlertInput {
  readonly id: number
}

export interface AuditCheckpoint {
  readonly seq: number
  readonly count: number
  readonly headHash: string
  readonly file: string
  readonly at: string
}

/** A browser session of the control API (src/api/sessions.ts), as the store keeps it. */
export interface BrowserSessionRecord {
  /** SHA-256 of the session id (hex): the id itself is only in the browser's cookie. */
  readonly idDigest: string
  /** The name of the token it was signed in with ("local" for the local token). */
  readonly name: string
  readonly role: "viewer" | "operator" | "admin"
  /** Epoch milliseconds. */
  readonly expiresAt: number
  /** HMAC keyed by the session id of the role and the token's digest (hex): a changed token breaks it. */
  readonly credential: string
}

/**
 * One committed change. Delivered after its transaction commits (never for a rolled-back one),
 * in commit order; `value: undefined` means the row was removed.
 */
export type StoreChange =
  | { readonly table: "desired_state"; readonly unit: string; readonly value: DesiredState | undefined }
  | {
      readonly table: "instances"
      readonly unit: string
      readonly instance: number
      readonly value: InstanceRecord | undefined
    }
  | {
      readonly table: "ports"
      readonly unit: string
      readonly instance: number
      readonly port: number | undefined
    }
  | { readonly table: "crash_reports"; readonly value: CrashReport }
  | { readonly table: "alert_history"; readonly value: AlertRecord }
  | { readonly table: "sam_runs"; readonly value: SamRun }

export type StoreListener = (change: StoreChange) => void
