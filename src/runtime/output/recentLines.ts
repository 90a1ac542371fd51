// The last lines an instance printed, bounded by count and by bytes, so a chatty or flooding unit
// holds a fixed amount of SAM's memory. Crash reports quote it; `sam logs` reads the files.
import type { AgentLogLevel } from "../logs/agentLogEntry.ts"

export interface OutputLine {
  readonly time: number
  readonly stream: "stdout" | "stderr"
  readonly line: string
  /** An agent's logger entry: its level (absent: a line the process printed). */
  readonly level?: AgentLogLevel
}

export class RecentLines {
  private readonly lines: OutputLine[] = []
  private bytes = 0
  private readonly maxLines: number
  private readonly maxBytes: number

  constructor(maxLines: number, maxBytes: number) {
    this.maxLines = Math.max(1, maxLines)
    this.maxBytes = Math.max(1, maxBytes)
  }

  push(entry: OutputLine): void {
    this.lines.push(entry)
    this.bytes += entry.line.length
    while (this.lines.length > this.maxLines || (this.bytes > this.maxBytes && this.lines.length > 1)) {
      const dropped = this.lines.shift()
      if (dropped) this.bytes -= dropped.line.length
    }
  }

  /** The last `n` lines (all by default), oldest first. */
  last(n = this.lines.length): ReadonlyArray<OutputLine> {
    return this.lines.slice(Math.max(0, this.lines.length - n))
  }
}
