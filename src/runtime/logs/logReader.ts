// Reads a unit's records back from its files (logFiles.ts writes them), newest first through the
// current file and its rotated (possibly gzipped) predecessors, and stops as soon as the query is
// answered: `sam logs -n 20` of a unit with 60 MB of history reads one chunk of one file.
import { open } from "node:fs/promises"
import { promisify } from "node:util"
import { gunzip } from "node:zlib"
import { decodeRecord, defaultLines, type LogQuery, type LogRecord, matches, pastQuery } from "./logRecord.ts"
import { type LogFile, rotatedFiles } from "./rotatingFile.ts"

const gunzipAsync = promisify(gunzip)
const chunkBytes = 256 * 1024
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
async function* linesNewestFirst(file: LogFile): AsyncGenerator<string[]> {
  if (file.compressed) {
    const data = await gunzipAsync(await readWhole(file.path))
    // Yield to the event loop between slices, so a big file does not hold it in one go.
    yield* backwards(data.length, async (start, end) => {
      await new Promise((resolve) => setImmediate(resolve))
      return data.subarray(start, end)
    })
    return
  }
  const handle = await open(file.path, "r")
  try {
    const size = (await handle.stat()).size
    yield* backwards(size, async (start, end) => {
      const chunk = Buffer.alloc(end - start)
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, start)
      return chunk.subarray(0, bytesRead)
    })
  } finally {
    await handle.close()
  }
}

const readWhole = async (path: string): Promise<Buffer> => {
  const handle = await open(path, "r")
  try {
    return await handle.readFile()
  } finally {
    await handle.close()
  }
}

/**
 * The last `query.lines` (default 100) records of `unit` in the log at `path` that match the
 * query, oldest first. A file that disappears mid-read (rotated away) is skipped; a record seen
 * twice (renamed between listing and reading) counts once.
 */
export const readRecords = async (path: string, unit: string, query: LogQuery): Promise<LogRecord[]> => {
  const limit = query.lines ?? defaultLines
  const found: LogRecord[] = []
  if (limit <= 0) return found
  let lowestSeq = Number.POSITIVE_INFINITY
  for (const file of rotatedFiles(path)) {
    try {
      for await (const batch of linesNewestFirst(file)) {
        for (const text of batch) {
          const record = decodeRecord(text, unit)
          if (!record || record.seq >= lowestSeq) continue
          lowestSeq = record.seq
          if (pastQuery(record, query)) return found.reverse()
          if (!matches(record, query)) continue
          found.push(record)
          if (found.length >= limit) return found.reverse()
        }
      }
    } catch (error) {
      // Rotated away (or compressed) between listing and opening: the next file has its records.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error
    }
  }
  return found.reverse()
}
