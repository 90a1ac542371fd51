// Reads a unit's records back from its files (logFiles.ts writes them), newest first through the
// current file and its rotated (possibly gzipped) predecessors, and stops as soon as the query is
// answered: `sam logs -n 20` of a unit with 60 MB of history reads one chunk of one file.
import { type FileHandle, open } from "node:fs/promises"
import { promisify } from "node:util"
import { gunzip } from "node:zlib"
import { decodeRecord, defaultLines, type LogQuery, type LogRecord, matches, pastQuery } from "./logRecord.ts"
import { type LogFile, rotatedFiles } from "./rotatingFile.ts"

const gunzipAsync = promisify(gunzip)
const chunkBytes = 256 * 1024
/** A read gives the event loop back this often: a grep costs up to ms per long line (linePattern.ts). */
const sliceMs = 20
const NEWLINE = 0x0a

/** The complete lines of `buffer`, newest first, into `out`; returns where the first one starts. */
const splitNewestFirst = (buffer: Buffer, out: string[]): number => {
  let end = buffer.length
  for (let i = buffer.length - 1; i >= 0; i--) {
    if (buffer[i] !== NEWLINE) continue
    if (end > i + 1) out.push(buffer.toString("utf8", i + 1, end))
    end = i
  }
  return end
}

/** Lines of `size` bytes read by `read(start, end)`, in batches, newest first. */
async function* backwards(
  size: number,
  read: (start: number, end: number) => Promise<Buffer> | Buffer,
): AsyncGenerator<string[]> {
  let position = size
  // The partial line at the start of the chunk read last, completed by the chunk before it.
  let carry = Buffer.alloc(0)
  while (position > 0) {
    const start = Math.max(0, position - chunkBytes)
    const chunk = await read(start, position)
    const buffer = carry.length === 0 ? chunk : Buffer.concat([chunk, carry])
    const lines: string[] = []
    const first = splitNewestFirst(buffer, lines)
    carry = Buffer.from(buffer.subarray(0, first))
    position = start
    if (position === 0 && carry.length > 0) lines.push(carry.toString("utf8"))
    yield lines
  }
}

/** A file's lines in batches, newest first (a gzipped one is inflated whole: rotated files are bounded). */
async function* linesNewestFirst(file: OpenLogFile): AsyncGenerator<string[]> {
  const { handle } = file
  if (file.compressed) {
    const data = await gunzipAsync(await handle.readFile())
    // Yield to the event loop between slices, so a big file does not hold it in one go.
    yield* backwards(data.length, async (start, end) => {
      await new Promise((resolve) => setImmediate(resolve))
      return data.subarray(start, end)
    })
    return
  }
  const size = (await handle.stat()).size
  yield* backwards(size, async (start, end) => {
    const chunk = Buffer.alloc(end - start)
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, start)
    return chunk.subarray(0, bytesRead)
  })
}

interface OpenLogFile {
  readonly handle: FileHandle
  readonly compressed: boolean
}

/**
 * Open a listed file; one compressed since the listing is opened as .gz, one rotated away is
 * skipped (its records are in the next file, or gone with the oldest).
 */
const openListed = async (file: LogFile): Promise<OpenLogFile | undefined> => {
  const attempt = async (path: string, compressed: boolean) => {
    try {
      return { handle: await open(path, "r"), compressed }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined
      throw error
    }
  }
  return (
    (await attempt(file.path, file.compressed)) ??
    (file.compressed ? undefined : await attempt(`${file.path}.gz`, true))
  )
}

/**
 * At most this much of the log's text (8 Mi UTF-16 units: ~16 MB in memory, and as much again as
 * the answer is built) is held by one read.
 */
export const maxReadChars = 8 * 1024 * 1024

/**
 * The last `query.lines` (default 100) records of `unit` in the log at `path` that match the
 * query, oldest first, and no more of them than `maxChars` of text hold. Every file is opened before any is read, so a rotation meanwhile (renames)
 * changes nothing of what is read; a record seen twice counts once.
 */
export const readRecords = async (
  path: string,
  unit: string,
  query: LogQuery,
  maxChars = maxReadChars,
): Promise<LogRecord[]> => {
  const limit = query.lines ?? defaultLines
  const found: LogRecord[] = []
  let held = 0
  if (limit <= 0) return found
  const files = (await Promise.all(rotatedFiles(path).map(openListed))).filter(
    (file): file is OpenLogFile => file !== undefined,
  )
  let lowestSeq = Number.POSITIVE_INFINITY
  let sliceStart = performance.now()
  try {
    for (const file of files) {
      for await (const batch of linesNewestFirst(file)) {
        for (const text of batch) {
          if (performance.now() - sliceStart > sliceMs) {
            await new Promise((resolve) => setImmediate(resolve))
            sliceStart = performance.now()
          }
          const record = decodeRecord(text, unit)
          if (!record || record.seq >= lowestSeq) continue
          lowestSeq = record.seq
          if (pastQuery(record, query)) return found.reverse()
          if (!matches(record, query)) continue
          // The newest lines up to the bound: 100,000 lines of 64 KiB would be 6 GB in memory.
          held += text.length
          if (held > maxChars && found.length > 0) return found.reverse()
          found.push(record)
          if (found.length >= limit) return found.reverse()
        }
      }
    }
    return found.reverse()
  } finally {
    await Promise.all(files.map((file) => file.handle.close()))
  }
}
