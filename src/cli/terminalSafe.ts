// A unit's output line as `sam logs` prints it for people: colours (SGR sequences, ESC [ … m)
// pass, as `less -R` lets them; every other control character is shown escaped (\x07, \x1b), so
// a unit cannot move the cursor, clear the screen or retitle the terminal of whoever reads its
// log. Tabs pass. `--json` carries the line as stored.

// SGR sequences first (kept whole), then any other C0 control but tab, DEL, or C1 control.
const controls = /(\x1b\[[0-9;:]*m)|[\x00-\x08\x0a-\x1f\x7f\x80-\x9f]/g

const escaped = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`

export const terminalSafe = (line: string): string =>
  line.replace(controls, (match, sgr: string | undefined) => (sgr !== undefined ? sgr : escaped(match)))
