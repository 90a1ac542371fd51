// A unit's output line as `sam logs` prints it for people: colours (SGR sequences, ESC [ … m)
// pass, as `less -R` lets them, but not conceal (SGR 8); every other control character is shown
// escaped (\x07, \x1b), so a unit cannot move the cursor, clear the screen or retitle the
// terminal of whoever reads its log. Tabs pass, and so do newlines (an agent's log entry may
// hold a stack trace). `--json` carries the line as stored.

// SGR sequences first (kept whole), then any other C0 control but tab and newline, DEL, C1, or a
// bidirectional override or isolate (U+202A-U+202E, U+2066-U+2069: they reorder what follows).
const controls = /(\x1b\[([0-9;:]*)m)|[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]/g

const escaped = (c: string): string => {
  const code = c.charCodeAt(0)
  return code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, "0")}`
}

/**
 * SGR 8 (conceal) hides text from whoever reads it: shown escaped, as other controls are. An 8
 * inside an extended colour (38;5;8 is grey) is none: those are skipped, 5;n or 2;r;g;b.
 */
const conceals = (params: string): boolean => {
  const each = params.split(/[;:]/)
  for (let i = 0; i < each.length; i++) {
    const p = each[i]
    if (p === "38" || p === "48" || p === "58") i += each[i + 1] === "2" ? 4 : 2
    else if (p === "8") return true
  }
  return false
}

export const terminalSafe = (line: string): string =>
  line.replace(controls, (match, sgr: string | undefined, params: string | undefined) =>
    sgr !== undefined && !conceals(params ?? "") ? sgr : `${escaped(match)}${match.slice(1)}`,
  )
