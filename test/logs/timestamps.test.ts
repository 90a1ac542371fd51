// `sam logs -t` with the real daemon (`sam start` in a child process) and the real `sam` CLI: every
// line starts with the time SAM read it (ISO 8601, UTC, milliseconds), then the unit's prefix when
// there is one, the same in history and with -f, and the same time `--json` reports for that line.
import { spawn } from "node:child_process"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot, runSam } from "../cli/runSam.ts"
import { fixturePath, projectPerTest, untilUnit } from "../support/daemon.ts"

const project = projectPerTest()

const chatty = (scaling: Record<string, number> = {}) => ({
  deployment: { mode: "process", command: process.execPath, args: [fixturePath("chatty.mjs")] },
  health_check: { endpoint: "/health", interval_seconds: 0.2 },
  scaling,
})

const iso = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"

/** `sam logs -f ...` running in `cwd`, with a way to wait for what it printed. */
const follower = (cwd: string, args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, [join(repoRoot, "src", "cli", "main.ts"), "logs", "-f", ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let stdout = ""
  let stderr = ""
  const waiters = new Set<() => void>()
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString()
    for (const waiter of waiters) waiter()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  const until = (wanted: (out: string) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!wanted(stdout)) return
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
      check()
      void exited.then(() => {
        if (waiters.delete(check)) reject(new Error(`sam logs -f exited first:\n${stdout}${stderr}`))
      })
    })
  return { child, exited, until, stdout: () => stdout, stderr: () => stderr }
}

describe("sam logs --timestamps", () => {
  it("puts each line's capture time first, then the unit, the same with -f, in history and in --json", async () => {
    const startedAt = Date.now()
    const p = project()
    p.writeConfig({ services: { web: chatty({ min_instances: 2 }), api: chatty() } })
    const daemon = await p.start()
    await daemon.waitForOutput("units ready")
    // The prefix column is sized by the instances when `sam logs` begins: both of web's are counted.
    await untilUnit(daemon, "services", "web", (s) => (s as { instances?: number }).instances === 2)
    const sam = (args: ReadonlyArray<string>) => runSam(["logs", ...args], { cwd: p.dir })

    // Following every unit: web's two instances (web#0 and web#1, as `sam ps` lists them) and api
    // share one column after the time.
    const follow = follower(p.dir, ["-t", "-n", "0"])
    p.pids.add(follow.child.pid as number)
    const ticked = (who: string) => new RegExp(`^${iso} ${who} \\| tick \\d+$`, "m")
    try {
      await follow.until((out) => ["web#0", "web#1", "api  "].every((who) => ticked(who).test(out)))
    } finally {
      follow.child.kill("SIGINT")
    }
    expect(await follow.exited).toBe(0)
    const followed = follow.stdout().trimEnd().split("\n")
    for (const line of followed) expect(line).toMatch(new RegExp(`^${iso} (web#0|web#1|api  ) \\| .+$`))

    // The history prints the lines the follower saw just as it did (same time, same prefix).
    const history = await sam(["--timestamps", "-n", "1000"])
    expect(history).toMatchObject({ code: 0, stderr: "" })
    expect(history.stdout.trimEnd().split("\n")).toEqual(expect.arrayContaining(followed))
    const times = history.stdout
      .trimEnd()
      .split("\n")
      .map((line) => line.slice(0, 24))
    expect(times).toEqual([...times].sort())

    // One unit of one instance has no prefix: the time, a space, the line; the time is the record's.
    const [record] = (await sam(["api", "--json", "--grep", "^tick 1$"])).stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { time: string; line: string })
    expect(record?.line).toBe("tick 1")
    const time = record?.time as string
    expect(Date.parse(time)).toBeGreaterThanOrEqual(startedAt)
    expect(Date.parse(time)).toBeLessThanOrEqual(Date.now())
    expect(await sam(["api", "-t", "--grep", "^tick 1$"])).toMatchObject({
      code: 0,
      stdout: `${time} tick 1\n`,
    })
    // Without the flag, lines are as they were.
    expect((await sam(["api", "--grep", "^tick 1$"])).stdout).toBe("tick 1\n")
  })

  it("is refused with --json, whose lines carry their time already, before asking SAM anything", async () => {
    for (const args of [
      ["--json", "--timestamps"],
      ["-t", "--json", "-f"],
    ]) {
      const run = await runSam(["logs", ...args, "--url", "http://127.0.0.1:9"])
      expect(run).toMatchObject({ code: 2, stdout: "" })
      expect(run.stderr).toBe(
        "sam: --timestamps is for text lines; with --json every line has its `time` already (drop one of the two)\n" +
          "Run 'sam logs --help' for usage.\n",
      )
    }
    const help = await runSam(["logs", "--help"])
    expect(help.stdout).toMatch(/^ {2}-t, --timestamps +Start each line with the time SAM read it/m)
    expect(help.stdout).toContain("2026-12-03T08:45:12.345Z web#1 | listening on :8080")
  })
})
