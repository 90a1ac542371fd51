// `sam startup`: the systemd unit it prints runs this project's SAM. systemd itself is not on
// this machine, so the test does what systemd would with the unit: runs its ExecStart from its
// WorkingDirectory with only its Environment (no PATH of the caller's), waits for SAM to be up,
// sends its KillSignal to SAM alone (KillMode=mixed) and sees SAM stop its units and exit 0.
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { fixturePath, projectPerTest } from "../support/daemon.ts"
import { survivors } from "../support/runtime.ts"
import { runSam } from "./runSam.ts"

const project = projectPerTest()

/** A unit file's `Key=value` lines, by key (the last of each). */
const keysOf = (unit: string): Map<string, string> =>
  new Map(
    unit
      .split("\n")
      .filter((line) => /^[A-Za-z]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const),
  )

/** systemd's splitting of an ExecStart line: words, double-quoted ones unescaped. */
const words = (line: string): string[] =>
  [...line.matchAll(/"((?:\\.|[^"\\])*)"|(\S+)/g)].map((m) => (m[1] ?? m[2] ?? "").replace(/\\(.)/g, "$1"))

describe("sam startup", () => {
  it("prints a unit whose ExecStart runs this project's SAM, which its KillSignal stops cleanly", async () => {
    const p = project()
    p.writeConfig({
      api: { port: 0 },
      services: {
        web: { deployment: { mode: "process", command: "node", args: [fixturePath("http-service.mjs")] } },
      },
    })
    const printed = await runSam(["startup"], { cwd: p.dir })
    expect(printed.code).toBe(0)
    const keys = keysOf(printed.stdout)
    expect(keys.get("WorkingDirectory")).toBe(p.dir)
    expect(keys.get("KillMode")).toBe("mixed")
    expect(keys.get("TimeoutStopSec")).toBe("45")
    expect(keys.get("Delegate")).toBe("yes")
    expect(keys.get("WantedBy")).toBe("multi-user.target")
    expect(printed.stderr).toMatch(
      /^sam: save it as sam-[\w.-]+\.service, then: sudo cp .* && sudo systemctl enable --now sam-/,
    )
    const command = words(keys.get("ExecStart") ?? "")
    expect(command.slice(2)).toEqual(["start", "--config", join(p.dir, "sam.config.json")])
    const [, env] = /^PATH=(.*)$/.exec(words(keys.get("Environment") ?? "")[0] ?? "") ?? []

    // As systemd would run it: its command, its directory, its environment alone.
    const child = spawn(command[0] as string, command.slice(1), {
      cwd: keys.get("WorkingDirectory"),
      env: { PATH: env ?? "", HOME: process.env.HOME ?? "/" },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    const deadline = Date.now() + 20_000
    while (!output.includes("press Ctrl+C") && Date.now() < deadline)
      await new Promise((resolve) => child.stdout.once("data", resolve))
    // `command: node` in the config found the unit's Node through the unit's PATH.
    expect(output).toContain("1/1 units ready")
    const api = JSON.parse(readFileSync(join(p.stateDir, "api.json"), "utf8")) as { pid: number }
    expect(api.pid).toBe(child.pid)
    const web = /started web pid (\d+)/.exec(output)?.[1]
    child.kill("SIGTERM")
    expect(await exited).toBe(0)
    expect(output).toContain("sam: stopped")
    expect(survivors([Number(web)])).toEqual([])
    expect(existsSync(join(p.stateDir, "api.json"))).toBe(false)

    // A user unit: wanted by the user's default target, no User=, and how to install it.
    const forUser = await runSam(["startup", "--user", "--out", "sam.service"], { cwd: p.dir })
    expect(forUser.code).toBe(0)
    const written = keysOf(readFileSync(join(p.dir, "sam.service"), "utf8"))
    expect(written.get("WantedBy")).toBe("default.target")
    expect(written.has("User")).toBe(false)
    expect(forUser.stderr).toContain("systemctl --user enable --now sam-")
  })
})
