// Which regular expressions (RE2, linear in the line) a line of an instance's current incarnation
// has matched (the `log` health check). Each pattern is watched from the first time a check asks
// about it: the lines already printed are looked up in the instance's recent lines, later ones are
// tested as they arrive, until it has matched. A pattern that has matched costs nothing more per line.
import { compileLinePattern, type LinePattern } from "../../config/linePattern.ts"
import type { OutputLine } from "./recentLines.ts"

interface Watch {
  readonly pattern: LinePattern
  seen: boolean
}

export class LogMatches {
  private readonly watches = new Map<string, Watch>()
  private unseen = 0
  private since: number
  private readonly recent: () => ReadonlyArray<OutputLine>

  /** `since`: when the current incarnation began (earlier lines are an earlier one's). */
  constructor(recent: () => ReadonlyArray<OutputLine>, since: number) {
    this.recent = recent
    this.since = since
  }

  /** A new incarnation: nothing it printed has matched yet. */
  reset(now = Date.now()): void {
    this.watches.clear()
    this.unseen = 0
    this.since = now
  }

  line(text: string): void {
    if (this.unseen === 0) return
    for (const watch of this.watches.values())
      if (!watch.seen && watch.pattern.test(text)) {
        watch.seen = true
        this.unseen--
      }
  }

  /** Whether a line of this incarnation matched `pattern`; throws on a pattern RE2 refuses (linePattern.ts). */
  matched(pattern: string): boolean {
    let watch = this.watches.get(pattern)
    if (watch === undefined) {
      // An embedder's spec is not validated: compiling refuses what `sam validate` would.
      const compiled = compileLinePattern(pattern, "log_line")
      const seen = this.recent().some((l) => l.time >= this.since && compiled.test(l.line))
      watch = { pattern: compiled, seen }
      this.watches.set(pattern, watch)
      if (!seen) this.unseen++
    }
    return watch.seen
  }
}
