// Splits a child's output stream into lines without ever holding more than `maxLineBytes` of a
// line: a longer line is emitted as soon as it reaches the limit, with a marker, and the rest of
// it (up to the next newline) is dropped, so one child printing a 600 MB line without a newline
// cannot grow SAM's memory or crash it. Pure; the process driver feeds it chunks as they arrive.

export const truncationMarker = (maxLineBytes: number): string =>
  ` … [line truncated: longer than ${maxLineBytes} bytes]`

/**
 * A line that arrived whole (an agent's log entry over IPC) cut as the splitter cuts a stream's:
 * its first `maxLineBytes` bytes and the marker. Most lines are far shorter than any limit.
 */
export const cutLine = (line: string, maxLineBytes: number): string => {
  // UTF-16 units take at most 3 bytes each in UTF-8: no need to count the bytes of a short line.
  if (line.length * 3 <= maxLineBytes || Buffer.byteLength(line) <= maxLineBytes) return line
  const bytes = Buffer.from(line)
  const cut = characterStart(maxLineBytes, (i) => bytes[i] ?? 0)
  return `${bytes.subarray(0, cut).toString("utf8")}${truncationMarker(maxLineBytes)}`
}

/**
 * The last offset at or before `cut` where a UTF-8 character starts, `byteAt` reading the line's
 * bytes: a cut there does not split a character into U+FFFD. A continuation byte is 10xxxxxx and
 * follows a lead byte 11xxxxxx at most 3 bytes back; bytes that are not UTF-8 are cut at `cut`.
 */
const characterStart = (cut: number, byteAt: (offset: number) => number): number => {
  if ((byteAt(cut) & 0xc0) !== 0x80) return cut
  for (let at = cut - 1; at >= 0 && at >= cut - 3; at--) {
    const byte = byteAt(at)
    if ((byte & 0xc0) === 0xc0) return at
    if ((byte & 0xc0) !== 0x80) return cut
  }
  return cut
}

const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d

export class LineSplitter {
  private parts: Buffer[] = []
  private held = 0
  /** The current line reached the limit and was emitted: drop the rest of it. */
  private truncated = false
  private readonly maxLineBytes: number
  private readonly emit: (line: string) => void

  constructor(maxLineBytes: number, emit: (line: string) => void) {
    this.maxLineBytes = Math.max(1, Math.floor(maxLineBytes))
    this.emit = emit
  }

  push(chunk: Buffer): void {
    let start = 0
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start)
      // The common case, a whole short line inside this chunk: decoded in place, no copies.
      if (newline !== -1 && this.held === 0 && !this.truncated && newline - start <= this.maxLineBytes) {
        const end = newline > start && chunk[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline
        this.emit(chunk.toString("utf8", start, end))
        start = newline + 1
        continue
      }
      const end = newline === -1 ? chunk.length : newline
      this.take(chunk.subarray(start, end))
      if (newline === -1) return
      this.finishLine()
      start = newline + 1
    }
  }

  /** The stream ended: a last line without a newline is still a line. */
  end(): void {
    if (this.held > 0) this.finishLine()
  }

  private take(bytes: Buffer): void {
    if (bytes.length === 0 || this.truncated) return
    const room = this.maxLineBytes - this.held
    if (bytes.length <= room) {
      // Copy: the chunk's memory belongs to the stream's pool.
      this.parts.push(Buffer.from(bytes))
      this.held += bytes.length
      return
    }
    if (room > 0) this.parts.push(Buffer.from(bytes.subarray(0, room)))
    this.held += room
    const whole = Buffer.concat(this.parts, this.held)
    const held = this.held
    const cut = characterStart(held, (i) => (i < held ? (whole[i] ?? 0) : (bytes[room + i - held] ?? 0)))
    const head = whole.toString("utf8", 0, cut)
    this.emit(`${head}${truncationMarker(this.maxLineBytes)}`)
    this.parts = []
    this.held = 0
    this.truncated = true
  }

  private finishLine(): void {
    if (this.truncated) {
      this.truncated = false
      return
    }
    let line = Buffer.concat(this.parts, this.held)
    if (line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN) line = line.subarray(0, line.length - 1)
    this.emit(line.toString("utf8"))
    this.parts = []
    this.held = 0
  }
}
