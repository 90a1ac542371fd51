// An append-only file rotated by size: when the next write would take it past maxFileBytes it is
// renamed to <path>.1 (older ones shift to .2 ... and past maxFiles are deleted), optionally gzipped
// to <path>.1.gz, and a new file is started. Unit logs write through it asynchronously (logFiles.ts),
// SAM's own log synchronously (logger.ts). Files are created 0600: output may hold secrets.
import {
  closeSync,
  createReadStream,
  createWriteStream,
  fchmodSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs"
import { type FileHandle, open, rename, unlink } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import { pipeline } from "node:stream/promises"
import { constants, createGzip, gzipSync } from "node:zlib"

export interface RotationSettings {
  /** A file is rotated before a write would take it past this (a lone bigger record still fits). */
  readonly maxFileBytes: number
  /** Rotated files kept beside the current one. */
  readonly maxFiles: number
  /** Gzip rotated files (<path>.N.gz). */
  readonly compress: boolean
}

export const fileMode = 0o600

const gzipOptions = { level: constants.Z_BEST_SPEED }

/** The path of the `k`th rotated file (1 = the newest). */
export const rotatedPath = (path: string, k: number, compressed: boolean): string =>
  `${path}.${k}${compressed ? ".gz" : ""}`

/** A file that exists: its path and whether it is gzipped. */
export interface LogFile {
  readonly path: string
  readonly compressed: boolean
}

/** `path` and its rotated files that exist, newest first (a plain .N wins over .N.gz mid-compression). */
export const rotatedFiles = (path: string): ReadonlyArray<LogFile> => {
  const name = basename(path)
  let entries: string[]
  try {
    entries = readdirSync(dirname(path))
  } catch {
    return []
  }
  const found = new Map<number, LogFile>()
  let current: LogFile | undefined
  for (const entry of entries) {
    if (entry === name) {
      current = { path, compressed: false }
      continue
    }
    if (!entry.startsWith(`${name}.`)) continue
    const rest = entry.slice(name.length + 1)
    const match = /^(\d+)(\.gz)?$/.exec(rest)
    if (!match) continue
    const k = Number(match[1])
    const compressed = match[2] !== undefined
    if (compressed && found.has(k)) continue
    found.set(k, { path: join(dirname(path), entry), compressed })
  }
  const rotated = [...found.entries()].sort((a, b) => a[0] - b[0]).map(([, file]) => file)
  return current ? [current, ...rotated] : rotated
}

/** What is left of `parts` after the first `written` bytes (a short write). */
const remainder = (parts: ReadonlyArray<Uint8Array>, written: number): Uint8Array[] => {
  const rest: Uint8Array[] = []
  let skip = written
  for (const part of parts) {
    if (skip >= part.length) skip -= part.length
    else {
      rest.push(skip > 0 ? part.subarray(skip) : part)
      skip = 0
    }
  }
  return rest
}

const ignoreMissing = (error: unknown) => {
  if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error
}

export class RotatingFile {
  readonly path: string
  private readonly settings: RotationSettings
  private readonly onError: (error: unknown) => void
  private handle: FileHandle | undefined
  private fd: number | undefined
  private size = 0
  private compressing: Promise<void> | undefined

  constructor(path: string, settings: RotationSettings, onError: (error: unknown) => void) {
    this.path = path
    this.settings = settings
    this.onError = onError
  }

  /** Bytes that fit before the next rotation (0: the next write rotates first). Valid once opened. */
  room(): number {
    return Math.max(0, this.settings.maxFileBytes - this.size)
  }

  /** Whether the file is open (room() is known). */
  get opened(): boolean {
    return this.handle !== undefined || this.fd !== undefined
  }

  /** Open the file now (room() is known from then on). */
  async ready(): Promise<void> {
    if (!this.handle) await this.open()
  }

  /** Append `parts` (one write), rotating first if they would not fit. Calls must not overlap. */
  async append(parts: ReadonlyArray<Uint8Array>): Promise<void> {
    if (!this.handle) await this.open()
    const bytes = parts.reduce((n, part) => n + part.length, 0)
    if (this.size > 0 && this.size + bytes > this.settings.maxFileBytes) await this.rotate()
    const handle = this.handle as FileHandle
    let pending = [...parts]
    let left = bytes
    while (left > 0) {
      const { bytesWritten } = await handle.writev(pending)
      left -= bytesWritten
      this.size += bytesWritten
      if (left > 0) pending = remainder(pending, bytesWritten)
    }
  }

  /** The same, synchronously (SAM's own log: a line is on disk when the call returns). */
  appendSync(text: string): void {
    if (this.fd === undefined) this.openSync()
    const buffer = Buffer.from(text, "utf8")
    if (this.size > 0 && this.size + buffer.length > this.settings.maxFileBytes) this.rotateSync()
    let offset = 0
    while (offset < buffer.length) offset += writeSync(this.fd as number, buffer, offset)
    this.size += buffer.length
  }

  /** Close the file, after a compression in flight. */
  async close(): Promise<void> {
    await this.compressing
    const handle = this.handle
    this.handle = undefined
    await handle?.close()
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  private async open(): Promise<void> {
    const handle = await open(this.path, "a", fileMode)
    try {
      // A file from an older SAM (or another umask) gets the mode SAM promises.
      await handle.chmod(fileMode)
      this.size = (await handle.stat()).size
    } catch (error) {
      await handle.close()
      throw error
    }
    this.handle = handle
  }

  private openSync(): void {
    const fd = openSync(this.path, "a", fileMode)
    fchmodSync(fd, fileMode)
    this.size = fstatSync(fd).size
    this.fd = fd
  }

  private async rotate(): Promise<void> {
    await this.compressing
    const old = this.handle
    this.handle = undefined
    // The renames are a handful of metadata calls: done at once rather than queued behind the
    // thread pool's writes (a flooding unit's queue fills while its file rotates).
    this.shiftFiles()
    await this.open()
    await old?.close()
    if (this.settings.compress && this.settings.maxFiles > 0)
      this.compressing = this.compress(rotatedPath(this.path, 1, false))
  }

  private rotateSync(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
    this.shiftFiles()
    this.openSync()
    // Synchronous, so no rotation can overlap it; SAM's own log rotates rarely.
    if (this.settings.compress && this.settings.maxFiles > 0)
      this.compressSync(rotatedPath(this.path, 1, false))
  }

  /** <path>.N goes, .k becomes .k+1, <path> becomes .1 (only the files that exist are touched). */
  private shiftFiles(): void {
    const { maxFiles } = this.settings
    const quietly = (step: () => void) => {
      try {
        step()
      } catch (error) {
        ignoreMissing(error)
      }
    }
    if (maxFiles === 0) {
      quietly(() => unlinkSync(this.path))
      return
    }
    let present = new Set<string>()
    try {
      present = new Set(readdirSync(dirname(this.path)))
    } catch (error) {
      // The directory went away under SAM: there is nothing to shift.
      ignoreMissing(error)
    }
    // Both forms of a number may exist mid-compression; each moves with its own suffix.
    const exists = (k: number, compressed: boolean) =>
      present.has(basename(rotatedPath(this.path, k, compressed)))
    for (const compressed of [false, true]) {
      if (exists(maxFiles, compressed))
        quietly(() => unlinkSync(rotatedPath(this.path, maxFiles, compressed)))
      for (let k = maxFiles - 1; k >= 1; k--)
        if (exists(k, compressed))
          quietly(() =>
            renameSync(rotatedPath(this.path, k, compressed), rotatedPath(this.path, k + 1, compressed)),
          )
    }
    // Missing: someone removed the file under SAM; the new one starts the chain again.
    quietly(() => renameSync(this.path, rotatedPath(this.path, 1, false)))
  }

  /** Gzip `file` to `file.gz` (through a temp name, so a reader never sees half of it). */
  private async compress(file: string): Promise<void> {
    const temp = `${file}.gz.tmp`
    try {
      await pipeline(
        createReadStream(file),
        createGzip(gzipOptions),
        createWriteStream(temp, { mode: fileMode }),
      )
      await rename(temp, `${file}.gz`)
      await unlink(file)
    } catch (error) {
      await unlink(temp).catch((cleanup: unknown) => {
        if ((cleanup as NodeJS.ErrnoException).code !== "ENOENT") this.onError(cleanup)
      })
      this.onError(error)
    }
  }

  private compressSync(file: string): void {
    const temp = `${file}.gz.tmp`
    try {
      const data = gzipSync(readFileSync(file), gzipOptions)
      const fd = openSync(temp, "w", fileMode)
      try {
        let offset = 0
        while (offset < data.length) offset += writeSync(fd, data, offset)
      } finally {
        closeSync(fd)
      }
      renameSync(temp, `${file}.gz`)
      unlinkSync(file)
    } catch (error) {
      try {
        unlinkSync(temp)
      } catch (cleanup) {
        if ((cleanup as NodeJS.ErrnoException).code !== "ENOENT") this.onError(cleanup)
      }
      this.onError(error)
    }
  }
}
