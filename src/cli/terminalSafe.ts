// A unit's output line as `sam logs` prints it for people: colours (SGR sequences, ESC [ … m)
// pass, as `less -R` lets them; every other control character is shown escaped (\x07, \x1b), so
// a unit cannot move the cursor, clear the screen or retitle the terminal of whoever reads its
// log. Tabs pass, and so do newlines (an agent's log entry may hold a stack trace). `--json`
// carries the line as stored.

// SGR sequences first (kept whole), then any other C0 control but tab and newline, DEL, or C1.
const controls = /(\x1b\[[0-9;:]*m)|[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g

const escaped = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`

export const terminalSafe = (line: string): string =>
  line.replace(controls, (match, sgr: string | undefined) => (sgr !== undefined ? sgr : escaped(match)))
