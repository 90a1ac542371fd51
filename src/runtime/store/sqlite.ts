// The node:sqlite connection the runtime store runs on (WAL, synchronous=NORMAL, foreign keys,
// a busy timeout) and typed readers for its rows. Table modules (desiredState.ts, ...) use these.

import { closeSync, existsSync, openSync } from "node:fs"
import { DatabaseSync, type SQLOutputValue } from "./nodeSqlite.ts"

export type Row = Record<string, SQLOutputValue>

/** SQLite's result codes a second connection meets while another holds the lock. */
const SQLITE_BUSY = 5
const SQLITE_LOCKED = 6

/** True for "database is locked" / "database table is locked" errors from node:sqlite. */
export const isBusy = (error: unknown): boolean => {
  const code = (error as { errcode?: unknown } | null)?.errcode
  return typeof code === "number" && ((code & 0xff) === SQLITE_BUSY || (code & 0xff) === SQLITE_LOCKED)
}

export interface OpenOptions {
  /** How long a write waits for another connection's lock (default 5 s; SAM holds the only writer). */
  readonly busyTimeoutMs?: number
}

/**
 * Open (creating if absent) a connection; nothing is written until `useWal`. A new file is its
 * owner's only (0600), and so are its -wal and -shm, which SQLite creates with the file's mode.
 */
export const openConnection = (file: string, options: OpenOptions = {}): DatabaseSync => {
  if (file !== ":memory:" && !existsSync(file)) closeSync(openSync(file, "a", 0o600))
  return new DatabaseSync(file, {
    timeout: options.busyTimeoutMs ?? 5_000,
    enableForeignKeyConstraints: true,
  })
}

/**
 * WAL mode: a crash (even SIGKILL) between writes loses no committed transaction, and
 * synchronous=NORMAL makes a commit one write, no fsync per commit (a power cut may lose the
 * last commits, never consistency). Persistent: it changes the database header.
 */
export const useWal = (db: DatabaseSync): void =>
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")

const column = (row: Row, name: string): SQLOutputValue => {
  if (!(name in row)) throw new Error(`runtime store: column ${name} missing from a row`)
  return row[name] as SQLOutputValue
}

export const text = (row: Row, name: string): string => {
  const value = column(row, name)
  if (typeof value !== "string") throw new Error(`runtime store: column ${name} is not text`)
  return value
}

export const textOrNull = (row: Row, name: string): string | null => {
  const value = column(row, name)
  return value === null ? null : text(row, name)
}

export const int = (row: Row, name: string): number => {
  const value = column(row, name)
  if (typeof value === "bigint") return Number(value)
  if (typeof value !== "number") throw new Error(`runtime store: column ${name} is not a number`)
  return value
}

export const intOrNull = (row: Row, name: string): number | null =>
  column(row, name) === null ? null : int(row, name)

/** A JSON column, parsed (written by this store with JSON.stringify). */
export const json = <A>(row: Row, name: string): A => JSON.parse(text(row, name)) as A
