// `sam logs` text lines: a unit's colours, tabs and newlines pass, any other control character is
// shown escaped.
import { describe, expect, it } from "vitest"
import { terminalSafe } from "../../src/cli/terminalSafe.ts"

describe("a log line printed for people", () => {
  it("keeps colours and tabs, escapes what could move the cursor, clear or retitle the terminal", () => {
    expect(terminalSafe("\x1b[31mred\x1b[0m\tok")).toBe("\x1b[31mred\x1b[0m\tok")
    // An agent's log entry with its stack keeps its lines.
    expect(terminalSafe("Error: kaboom\n    at fail (x.ts:1:1)")).toBe(
      "Error: kaboom\n    at fail (x.ts:1:1)",
    )
    expect(terminalSafe("\x1b[1;38;5;208mbold orange\x1b[m")).toBe("\x1b[1;38;5;208mbold orange\x1b[m")
    expect(terminalSafe("\x00\x01\x07bell")).toBe("\\x00\\x01\\x07bell")
    expect(terminalSafe("\x1b[2J\x1b[Hcleared")).toBe("\\x1b[2J\\x1b[Hcleared")
    expect(terminalSafe("\x1b]0;pwned\x07title")).toBe("\\x1b]0;pwned\\x07title")
    expect(terminalSafe("cr\roverwrite\x7f\x9b")).toBe("cr\\x0doverwrite\\x7f\\x9b")
    expect(terminalSafe("plain ünïcode ✓")).toBe("plain ünïcode ✓")
  })

  it("escapes what hides or reorders text: conceal (SGR 8) and bidirectional overrides, not a grey", () => {
    expect(terminalSafe("A\x1b[8mHIDDEN\x1b[0m")).toBe("A\\x1b[8mHIDDEN\x1b[0m")
    expect(terminalSafe("\x1b[1;8mx")).toBe("\\x1b[1;8mx")
    expect(terminalSafe("\x1b[38;5;8mgrey\x1b[48;2;8;8;8mbg")).toBe("\x1b[38;5;8mgrey\x1b[48;2;8;8;8mbg")
    expect(terminalSafe("invoice\u202eexe.pdf")).toBe("invoice\\u202eexe.pdf")
    expect(terminalSafe("a\u2066b\u2069")).toBe("a\\u2066b\\u2069")
  })
})
