// A unit's output line as the dashboard shows it: colours (SGR sequences, ESC [ … m) dropped, as
// a page cannot render them, and every other control character shown escaped (\x1b, \x07), as
// `sam logs` shows them: the raw bytes would show as stray glyphs. Tabs pass. Pure.

const sgr = /\x1b\[[0-9;:]*m/g
const controls = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g

export const logText = (line: string): string =>
  line.replace(sgr, "").replace(controls, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
