// One state dir belongs to one SAM: an OS lock that dies with its holder (never a stale pid
// file). <state_dir>/sam.lock is a SQLite file held in an exclusive transaction, i.e. an fcntl
// write lock that the kernel drops when the connection closes or the process dies (SIGKILL
// included); SQLite also refuses a second connection in the same process. sam.lock.json, written
// once the lock is held, names the holder so a refusal can say who it is. A refused attempt
// writes nothing. Caveat (POSIX locks): closing ANY descriptor of sam.lock in the holding
// process drops the lock, so nothing else in SAM may open that file (read sam.lock.json instead).
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { Data } from "effect"
import { processStartTime } from "../os/proc.ts"
import { DatabaseSync } from "./nodeSqlite.ts"
import { ensurePrivateDir } from "./privateDir.ts"
import { isBusy } from "./sqlite.ts"

export interface LockHolder {
  readonly pid: number
  /** /proc start time of the holder, to tell a reused pid apart. */
  readonly startTime: string
  readonly startedAt: string
}

/** Another live SAM holds the state dir. */
export class StateDirInUse extends Data.TaggedError("StateDirInUse")<{
  readonly stateDir: string
  /** Who holds it, when its record is readable. */
  readonly holder: LockHolder | undefined
  readonly message: string
}> {}

/** The lock file exists but is not a lock SAM can take (damaged, permissions, ...). */
export class StateDirLockFailed extends Data.TaggedError("StateDirLockFailed")<{
  readonly stateDir: string
  readonly cause: unknown
  readonly message: string
}> {}

export interface StateDirLock {
  /** Absolute path of the locked state dir. */
  readonly stateDir: string
  readonly holder: LockHolder
  /** Give the state dir up (idempotent). */
  release(): void
}

export const lockFile = (stateDir: string): string => join(resolve(stateDir), "sam.lock")
export const holderFile = (stateDir: string): string => join(resolve(stateDir), "sam.lock.json")

/** The recorded holder, if its record is readable and that process still runs. */
export const readLockHolder = (stateDir: string): LockHolder | undefined => {
  try {
    const holder = JSON.parse(readFileSync(holderFile(stateDir), "utf8")) as Partial<LockHolder>
    if (typeof holder.pid !== "number" || typeof holder.startTime !== "string") return undefined
    // A record left by a holder that died (the lock died with it, this one is a newer holder's
    // not yet written): not evidence of who holds it now.
    if (holder.startTime !== "" && processStartTime(holder.pid) !== holder.startTime) return undefined
    return {
      pid: holder.pid,
      startTime: holder.startTime,
      startedAt: typeof holder.startedAt === "string" ? holder.startedAt : "",
    }
  } catch {
    return undefined
  }
}

// A program embedding SAM that creates a second one on the same dir is told it is its own doing.
const holderText = (holder: LockHolder | undefined): string =>
  holder === undefined
    ? "another SAM"
    : holder.pid === process.pid
      ? `a SAM of this process (pid ${holder.pid}) that was not stopped`
      : `SAM pid ${holder.pid}`

const inUse = (stateDir: string): StateDirInUse => {
  const holder = readLockHolder(stateDir)
  return new StateDirInUse({
    stateDir,
    holder,
    message: `state dir ${stateDir} is in use by ${holderText(holder)}`,
  })
}

/**
 * Take `stateDir` for this process, at once or not at all (no waiting): throws StateDirInUse when
 * another SAM (in this process or another) holds it, StateDirLockFailed when the lock cannot be
 * taken for another reason. Creates the directory when it does not exist, readable by its owner
 * only (privateDir.ts).
 */
export const acquireStateDir = (stateDir: string): StateDirLock => {
  const dir = resolve(stateDir)
  let db: DatabaseSync | undefined
  try {
    const foreign = ensurePrivateDir(dir)
    if (foreign !== undefined)
      throw new StateDirLockFailed({ stateDir: dir, cause: undefined, message: foreign })
    db = new DatabaseSync(lockFile(dir), { timeout: 0 })
    // No journal file (nothing is ever written), the lock kept until close, taken up front.
    db.exec("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=MEMORY; BEGIN EXCLUSIVE")
  } catch (error) {
    db?.close()
    if (error instanceof StateDirLockFailed) throw error
    if (isBusy(error)) throw inUse(dir)
    throw new StateDirLockFailed({
      stateDir: dir,
      cause: error,
      message:
        `cannot lock state dir ${dir} (${error instanceof Error ? error.message : String(error)}): ` +
        `check its permissions; if ${lockFile(dir)} is damaged and no SAM runs, remove it`,
    })
  }
  const connection = db
  const holder: LockHolder = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    startedAt: new Date().toISOString(),
  }
  const record = holderFile(dir)
  try {
    writeFileSync(`${record}.tmp`, `${JSON.stringify(holder)}\n`)
    renameSync(`${record}.tmp`, record)
  } catch (error) {
    connection.close()
    throw new StateDirLockFailed({
      stateDir: dir,
      cause: error,
      message: `cannot write ${record} (${String(error)}): check the state dir's permissions and free space`,
    })
  }
  let released = false
  return {
    stateDir: dir,
    holder,
    release: () => {
      if (released) return
      released = true
      // The record goes first, while the lock still guards it: no clean release leaves one behind.
      rmSync(record, { force: true })
      connection.close()
    },
  }
}
