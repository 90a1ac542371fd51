// The stderr line that says why an instance died, for the reason of its exit: its last one, unless
// that is the tail of a runtime's crash dump (Node ends an uncaught exception with a blank line and
// `Node.js v26.10.0`, after the stack and the error's fields), where the error's own line is further
// up: `Error: listen EADDRINUSE: address already in use 127.0.0.1:8080`. Pure.
import type { OutputLine } from "./recentLines.ts"

/** Lines of a crash dump that never say why: Node's version footer, stack frames, the fields' braces. */
const noise = (line: string): boolean => {
  const t = line.trim()
  return (
    t === "" ||
    /^Node\.js v\d+\.\d+\.\d+$/.test(t) ||
    /^at .+/.test(t) ||
    t === "}" ||
    t === "^" ||
    /^\w+: .*,$/.test(t) // a field of the error object: `code: 'EADDRINUSE',`
  )
}

/** `TypeError: x`, `Error [ERR_MODULE_NOT_FOUND]: y`, `SyntaxError: z`, `RangeError`... */
const errorLine = /^(?:Uncaught )?(?:[A-Z]\w*)?(?:Error|Exception)(?: \[[A-Z_\d]+\])?: ./

/** Why it died, from the stderr lines written since `since` (epoch ms), if it said anything there. */
export const dyingWords = (lines: ReadonlyArray<OutputLine>, since: number): string | undefined => {
  const said = lines.filter((l) => l.stream === "stderr" && l.time >= since).map((l) => l.line)
  const last = said.at(-1)
  if (last === undefined) return undefined
  if (!noise(last)) return last
  // A crash dump: its error line, else the last line that is not part of the dump's tail.
  for (let i = said.length - 1; i >= 0; i--) if (errorLine.test((said[i] as string).trim())) return said[i]
  for (let i = said.length - 1; i >= 0; i--) if (!noise(said[i] as string)) return said[i]
  return last
}
