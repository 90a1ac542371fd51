// One state dir belongs to one SAM: real processes take the lock; a second one (in another
// process or in the same one) is refused at once, naming the holder, and writes nothing; the
// lock dies with its holder, SIGKILL included, so the next SAM takes it immediately.
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { processStartTime } from "../../../src/runtime/os/proc.ts"
import {
  acquireStateDir,
  holderFile,
  readLockHolder,
  StateDirInUse,
  StateDirLockFailed,
} from "../../../src/runtime/store/stateDirLock.ts"
import { fixture } from "../../support/runtime.ts"

const dirs: Array<string> = []
const children: Array<ChildProcess> = []
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const stateDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "sam-lock-"))
  dirs.push(dir)
  return dir
}

interface Report {
  readonly held?: number
  readonly refused?: string
  readonly tag?: string
  readonly ms?: number
}

/** Run the lock fixture on `dir`; resolves with its report (a holder keeps running). */
const tryLock = (dir: string): Promise<{ child: ChildProcess; report: Report; exited: Promise<unknown> }> => {
  const child = spawn(process.execPath, [fixture("hold-state-dir.ts"), dir], {
    stdio: ["ignore", "pipe", "inherit"],
  })
  children.push(child)
  const exited = new Promise((resolve) => child.once("exit", resolve))
  return new Promise((resolve, reject) => {
    let out = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes("\n")) resolve({ child, report: JSON.parse(out) as Report, exited })
    })
    child.once("exit", (code) => reject(new Error(`lock fixture exited (${code}) without a report: ${out}`)))
  })
}

/** Every entry of `dir` with its size and mtime, to show a refused attempt wrote nothing. */
const snapshot = (dir: string): Array<string> =>
  readdirSync(dir)
    .sort()
    .map((name) => {
      const stat = statSync(join(dir, name))
      return `${name} ${stat.size} ${stat.mtimeMs}`
    })

describe("the state-dir lock", () => {
  it("a second process is refused at once with the holder's pid, and writes nothing", async () => {
    const dir = stateDir()
    const holder = await tryLock(dir)
    expect(holder.report.held).toBe(holder.child.pid)
    expect(readLockHolder(dir)).toEqual({
      pid: holder.child.pid,
      startTime: processStartTime(holder.child.pid ?? 0),
      startedAt: expect.any(String),
    })
    const before = snapshot(dir)
    const dirMtime = statSync(dir).mtimeMs

    const second = await tryLock(dir)
    expect(second.report.refused).toBe(`state dir ${dir} is in use by SAM pid ${holder.child.pid}`)
    expect(second.report.tag).toBe("StateDirInUse")
    // "At once": the refusal does not wait for the holder (a busy timeout would show here).
    expect(second.report.ms).toBeLessThan(1_000)
    await second.exited
    expect(snapshot(dir)).toEqual(before)
    expect(statSync(dir).mtimeMs).toBe(dirMtime)
    holder.child.kill("SIGKILL")
    await holder.exited
  })

  it("after the holder is SIGKILLed, the next process takes the state dir immediately", async () => {
    const dir = stateDir()
    const first = await tryLock(dir)
    first.child.kill("SIGKILL")
    await first.exited
    // Its record is left behind, but it names a dead process: not taken as the holder.
    expect(JSON.parse(readFileSync(holderFile(dir), "utf8"))).toMatchObject({ pid: first.child.pid })
    expect(readLockHolder(dir)).toBeUndefined()
    const next = await tryLock(dir)
    expect(next.report.held).toBe(next.child.pid)
    next.child.kill("SIGKILL")
    await next.exited
  })

  it("a second attempt in the same process fails too, and the first lock still holds", async () => {
    const dir = stateDir()
    const lock = acquireStateDir(dir)
    expect(lock.stateDir).toBe(dir)
    let error: unknown
    try {
      acquireStateDir(join(dir, ".", ""))
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(StateDirInUse)
    // Held by this very process: said so, for a program that embeds SAM twice.
    expect((error as StateDirInUse).message).toBe(
      `state dir ${dir} is in use by a SAM of this process (pid ${process.pid}) that was not stopped`,
    )
    // The refused attempt closed its connection; the fcntl lock of the first must survive that.
    const other = await tryLock(dir)
    expect(other.report.refused).toBe(`state dir ${dir} is in use by SAM pid ${process.pid}`)
    await other.exited

    lock.release()
    lock.release()
    expect(readdirSync(dir)).toEqual(["sam.lock"])
    const again = acquireStateDir(dir)
    again.release()
  })

  it("without a readable holder record the refusal says 'by another SAM'", async () => {
    const dir = stateDir()
    const holder = await tryLock(dir)
    rmSync(holderFile(dir))
    const second = await tryLock(dir)
    expect(second.report.refused).toBe(`state dir ${dir} is in use by another SAM`)
    holder.child.kill("SIGKILL")
    await holder.exited
    await second.exited
  })
})

describe("the state dir's permissions", () => {
  it("is made readable by its owner only, and an existing wider one is narrowed", () => {
    const parent = stateDir()
    const fresh = join(parent, "fresh", ".sam")
    acquireStateDir(fresh).release()
    expect(statSync(fresh).mode & 0o777).toBe(0o700)
    const wide = join(parent, "wide")
    mkdirSync(wide, { mode: 0o755 })
    chmodSync(wide, 0o755)
    acquireStateDir(wide).release()
    expect(statSync(wide).mode & 0o777).toBe(0o700)
  })

  // CI runs as root, which can give the dir away; another user cannot.
  it.runIf(process.getuid?.() === 0)(
    "refuses a state dir another user owns, naming both uids, and writes nothing in it",
    () => {
      const dir = join(stateDir(), "shared")
      mkdirSync(dir, { mode: 0o777 })
      chmodSync(dir, 0o777)
      chownSync(dir, 65534, 65534)
      let refused: unknown
      try {
        acquireStateDir(dir).release()
      } catch (error) {
        refused = error
      }
      expect(refused).toBeInstanceOf(StateDirLockFailed)
      expect((refused as StateDirLockFailed).message).toBe(
        `state dir ${dir} belongs to uid 65534, not to uid 0 that SAM runs as: its owner could replace what SAM and \`sam\` read there (api.json, which tells the CLI where to send the admin token); give SAM a state dir of its own user (runtime.state_dir)`,
      )
      expect(readdirSync(dir)).toEqual([])
      expect(statSync(dir).mode & 0o777).toBe(0o777)
    },
  )

  it.runIf(process.getuid?.() === 0)("sam start says so in one line, exit 1, no stack trace", async () => {
    const project = stateDir()
    const dir = join(project, ".sam")
    mkdirSync(dir, { mode: 0o700 })
    chownSync(dir, 65534, 65534)
    writeFileSync(join(project, "sam.config.json"), "{}")
    const { runSam } = await import("../../cli/runSam.ts")
    const run = await runSam(["start", "--config", "sam.config.json", "--port", "0"], { cwd: project })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /^sam: state dir \S+ belongs to uid 65534, not to uid 0 that SAM runs as: .+\n$/,
    )
  })

  it("keeps other local users out of the runtime store and agents' data (checked as nobody)", () => {
    // Under a dir anyone may enter (mkdtemp's is 0700), as a project's .sam is.
    const parent = stateDir()
    chmodSync(parent, 0o755)
    const dir = join(parent, ".sam")
    acquireStateDir(dir).release()
    mkdirSync(join(dir, "agents", "a", "data"), { recursive: true })
    writeFileSync(join(dir, "agents", "a", "data", "secret.txt"), "VICTIM-SECRET")
    // setpriv (util-linux) runs cat as uid/gid 65534, as another local user would.
    const read = spawnSync(
      "setpriv",
      [
        "--reuid",
        "65534",
        "--regid",
        "65534",
        "--clear-groups",
        "cat",
        join(dir, "agents", "a", "data", "secret.txt"),
      ],
      { encoding: "utf8" },
    )
    expect(read.stdout).toBe("")
    expect(read.stderr).toMatch(/Permission denied/)
  })
})
