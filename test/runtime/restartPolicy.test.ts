import { describe, expect, it } from "vitest"
import { restartVerdict } from "../../src/runtime/supervisor/restartPolicy.ts"
import { defaultRestart, type RestartSpec } from "../../src/runtime/unitSpec.ts"

const policy = (overrides: Partial<RestartSpec>): RestartSpec => ({ ...defaultRestart, ...overrides })
const exited = (code: number | null, signal: string | null = null) => ({ code, signal })

describe("restart verdicts (OTP restart types, exit-code overrides)", () => {
  it("permanent (always) restarts on any exit, clean or not, and on any other failure", () => {
    const p = policy({ type: "permanent" })
    expect(restartVerdict(p, "exit", exited(0))).toEqual({ restart: true })
    expect(restartVerdict(p, "exit", exited(null, "SIGKILL"))).toEqual({ restart: true })
    expect(restartVerdict(p, "liveness", undefined)).toEqual({ restart: true })
  })

  it("transient (on-failure) restarts on an abnormal end only", () => {
    const p = policy({ type: "transient" })
    expect(restartVerdict(p, "exit", exited(0))).toEqual({
      restart: false,
      why: "clean exit of a transient (on-failure) unit",
    })
    expect(restartVerdict(p, "exit", exited(1))).toEqual({ restart: true })
    expect(restartVerdict(p, "exit", exited(null, "SIGSEGV"))).toEqual({ restart: true })
    expect(restartVerdict(p, "memory", undefined)).toEqual({ restart: true })
  })

  it("temporary (never) never restarts unless an exit code forces it", () => {
    const p = policy({ type: "temporary", forceExitCodes: [75] })
    expect(restartVerdict(p, "exit", exited(1))).toMatchObject({ restart: false })
    expect(restartVerdict(p, "exit", exited(75))).toEqual({ restart: true })
  })

  it("an exit code in no_restart_exit_codes wins over everything", () => {
    const p = policy({ type: "permanent", preventExitCodes: [78], forceExitCodes: [78] })
    expect(restartVerdict(p, "exit", exited(78))).toEqual({
      restart: false,
      why: "exit code 78 is in no_restart_exit_codes",
    })
    expect(restartVerdict(p, "heartbeat", exited(78))).toEqual({ restart: true })
  })
})
