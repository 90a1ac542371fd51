import { describe, expect, it } from "vitest"
import { formatCapabilities } from "../../src/cli/capabilitiesCommand.ts"

const provider = { unit: "helper", instance: 0, state: "running", ready: true, in_flight: 0 }
const capabilities = [
  { name: "echo", description: "answers its input, whatever it is", available: true, providers: [provider] },
  { name: "stream", description: null, available: true, providers: [provider] },
]

describe("sam capabilities' DESCRIPTION column", () => {
  it("is whole outside a terminal, cut to fit one, and left out of one too narrow", () => {
    expect(formatCapabilities(capabilities)).toBe(
      [
        "CAPABILITY  AVAILABLE  PROVIDER  STATE    READY  IN FLIGHT  DESCRIPTION",
        "echo        yes        helper    running  yes    0          answers its input, whatever it is",
        "stream      yes        helper    running  yes    0",
        "",
      ].join("\n"),
    )
    expect(formatCapabilities(capabilities, 80)).toBe(
      [
        "CAPABILITY  AVAILABLE  PROVIDER  STATE    READY  IN FLIGHT  DESCRIPTION",
        "echo        yes        helper    running  yes    0          answers its input,…",
        "stream      yes        helper    running  yes    0",
        "",
      ].join("\n"),
    )
    expect(formatCapabilities(capabilities, 70)).toBe(
      [
        "CAPABILITY  AVAILABLE  PROVIDER  STATE    READY  IN FLIGHT",
        "echo        yes        helper    running  yes    0",
        "stream      yes        helper    running  yes    0",
        "",
      ].join("\n"),
    )
    // None described: no column.
    expect(formatCapabilities([{ ...capabilities[1]! }]).split("\n")[0]).toBe(
      "CAPABILITY  AVAILABLE  PROVIDER  STATE    READY  IN FLIGHT",
    )
  })
})
