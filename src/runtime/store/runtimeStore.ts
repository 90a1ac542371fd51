// SAM's durable runtime state in <state_dir>/state.db (node:sqlite, WAL): desired state, last
// known instances, ports, restart windows, SAM runs, crash reports, alerts, audit checkpoints and
// browser sessions.
// Synchronous methods (a write is microseconds); every change is observable (storeChanges.ts).
// One state dir belongs to one SAM: take stateDirLock.ts's lock before opening the store.
import { mkdirSync } from "node:fs"
import { join, resolve } from "node:path"
import type { DatabaseSync } from "node:sqlite"
import type { PubSub, SubscriptionRef } from "effect"
import { type AlertHistoryTable, alertHistoryTable } from "./alertHistory.ts"
import { type AuditCheckpointsTable, auditCheckpointsTable } from "./auditCheckpoints.ts"
import { type BrowserSessionsTable, browserSessionsTable } from "./browserSessions.ts"
import { type CrashReportsTable, crashReportsTable } from "./crashReports.ts"
import { type DesiredStateTable, desiredStateTable } from "./desiredState.ts"
import { type InstancesTable, instancesTable } from "./instances.ts"
import { type Migration, migrate, schemaVersion } from "./migrations.ts"
import { type PortsTable, portsTable } from "./ports.ts"
import { type RestartWindowsTable, restartWindowsTable } from "./restartWindows.ts"
import { type SamRunsTable, samRunsTable } from "./samRuns.ts"
import { type ScaledInstancesTable, scaledInstancesTable } from "./scaledInstances.ts"
import { openConnection, useWal } from "./sqlite.ts"
import { ChangeFeed } from "./storeChanges.ts"
import { makeStoreContext } from "./storeContext.ts"
import { StoreClosed, StoreVersionTooNew, storeOpenFailed, storeVersionTooNew } from "./storeErrors.ts"
import { runtimeStoreMigrations } from "./storeSchema.ts"
import type { DesiredState, StoreChange, StoreListener } from "./storeTypes.ts"

export const stateDbFile = (stateDir: string): string => join(resolve(stateDir), "state.db")

export interface RuntimeStoreOptions {
  /** The schema steps (default: this SAM's; tests pass their own lists). */
  readonly migrations?: ReadonlyArray<Migration>
  /** Where a throwing change listener is reported (default: a process warning). */
  readonly onListenerError?: (error: unknown) => void
  readonly busyTimeoutMs?: number
}

export interface RuntimeStore {
  /** Absolute path of state.db. */
  readonly file: string
  /** The schema version the database is at (PRAGMA user_version). */
  readonly schemaVersion: number
  readonly desiredState: DesiredStateTable
  readonly scaledInstances: ScaledInstancesTable
  readonly instances: InstancesTable
  readonly ports: PortsTable
  readonly restartWindows: RestartWindowsTable
  readonly samRuns: SamRunsTable
  readonly crashReports: CrashReportsTable
  readonly alertHistory: AlertHistoryTable
  readonly auditCheckpoints: AuditCheckpointsTable
  readonly browserSessions: BrowserSessionsTable
  /** Every committed change (`PubSub.subscribe` is scoped; or `Stream.fromPubSub(store.changes)`). */
  readonly changes: PubSub.PubSub<StoreChange>
  /** Plain-callback watcher of every committed change; returns the unsubscribe function. */
  subscribe(listener: StoreListener): () => void
  /** Shorthand for `desiredState.watch(unit)`. */
  watchDesiredState(unit: string): SubscriptionRef.SubscriptionRef<DesiredState | undefined>
  /** Several writes (any tables) as one: all commit or none; watchers see them after the commit. */
  transaction<A>(body: () => A): A
  /** Close the database (idempotent); later calls throw StoreClosed. */
  close(): void
}

const warnListenerError = (error: unknown) =>
  process.emitWarning(`a runtime store change listener threw: ${String(error)}`, "SamStoreWarning")

/**
 * Open (creating and migrating as needed) the runtime store of `stateDir`. Throws
 * StoreVersionTooNew for a database from a newer SAM, StoreOpenFailed for anything else.
 */
export const openRuntimeStore = (stateDir: string, options: RuntimeStoreOptions = {}): RuntimeStore => {
  const file = stateDbFile(stateDir)
  let db: DatabaseSync | undefined
  let version: number
  try {
    mkdirSync(resolve(stateDir), { recursive: true })
    db = openConnection(
      file,
      options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs },
    )
    const migrations = options.migrations ?? runtimeStoreMigrations
    // Refused before WAL is switched on: a newer SAM's database is left byte for byte as it was.
    const found = schemaVersion(db)
    if (found > migrations.length) throw storeVersionTooNew(file, found, migrations.length)
    useWal(db)
    version = migrate(db, file, migrations).to
  } catch (error) {
    db?.close()
    if (error instanceof StoreVersionTooNew) throw error
    throw storeOpenFailed(file, error)
  }
  const connection = db
  const feed = new ChangeFeed(options.onListenerError ?? warnListenerError)
  const context = makeStoreContext(connection, feed)
  const desiredState = desiredStateTable(context, (listener) =>
    feed.subscribe((change) => {
      if (change.table === "desired_state") listener(change.unit, change.value)
    }),
  )
  let closed = false
  /** The same table, each method refusing clearly once the store is closed. */
  const guarded = <T extends object>(table: T): T =>
    Object.fromEntries(
      Object.entries(table).map(([name, method]) => [
        name,
        (...args: Array<unknown>) => {
          if (closed)
            throw new StoreClosed({
              file,
              message: `the runtime store ${file} is closed (${name} called after close): SAM has stopped`,
            })
          return (method as (...a: Array<unknown>) => unknown)(...args)
        },
      ]),
    ) as T
  const entry = guarded({ transaction: context.transaction, watch: desiredState.watch })
  return {
    file,
    schemaVersion: version,
    desiredState: guarded(desiredState),
    scaledInstances: guarded(scaledInstancesTable(context)),
    instances: guarded(instancesTable(context)),
    ports: guarded(portsTable(context)),
    restartWindows: guarded(restartWindowsTable(context)),
    samRuns: guarded(samRunsTable(context)),
    crashReports: guarded(crashReportsTable(context)),
    alertHistory: guarded(alertHistoryTable(context)),
    auditCheckpoints: guarded(auditCheckpointsTable(context)),
    browserSessions: guarded(browserSessionsTable(context)),
    changes: feed.pubsub,
    subscribe: (listener) => feed.subscribe(listener),
    watchDesiredState: entry.watch,
    transaction: entry.transaction,
    close: () => {
      if (closed) return
      closed = true
      feed.close()
      connection.close()
    },
  }
}
