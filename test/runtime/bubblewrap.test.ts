// Bubblewrap on this host: the check that says whether it can build a sandbox (and why not, in
// bwrap's own words), the choice SAM makes from it, and the walls alone, without Node's
// permission model inside: what a sandboxed process sees, reaches and survives.
import { spawn } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { type AddressInfo, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { type WallPlan, wallArgs, walledCommand } from "../../src/runtime/drivers/agent/sandboxWalls.ts"
import { type BubblewrapHost, detectBubblewrap } from "../../src/runtime/os/bubblewrap.ts"
import { chooseSandbox, sandboxRefusal } from "../../src/runtime/sandboxChoice.ts"
import { survivors } from "../support/runtime.ts"

const dir = mkdtempSync(join(tmpdir(), "sam-bwrap-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A stand-in bwrap that prints `stderr` and fails, as bwrap does where it may not build namespaces. */
const fakeBwrap = (name: string, stderr: string): string => {
  const file = join(dir, name)
  writeFileSync(
    file,
    `#!/bin/sh\ncase "$1" in --version) echo "bubblewrap 9.9";; *) echo '${stderr}' >&2; exit 1;; esac\n`,
  )
  chmodSync(file, 0o755)
  return file
}

const host = (): BubblewrapHost => {
  const probe = detectBubblewrap()
  if (!probe.ok) throw new Error(`bubblewrap must work on this host (CI installs it): ${probe.reason}`)
  return probe.host
}

describe("detecting bubblewrap", () => {
  it("works here: bwrap's version, and the Node binary and libraries a sandbox must hold", () => {
    const found = host()
    expect(found.version).toMatch(/^bubblewrap \d+\.\d+/)
    expect(found.runtimeFiles.map((f) => f.target)).toEqual(
      expect.arrayContaining([process.execPath, expect.stringMatching(/\/libc\.so\.6$/)]),
    )
  })

  it("says why not, in bwrap's words and what they mean: AppArmor, no user namespaces, not installed", () => {
    const apparmor = detectBubblewrap({
      bwrap: fakeBwrap("apparmor", "bwrap: setting up uid map: Permission denied"),
    })
    expect(apparmor).toMatchObject({ ok: false, reason: expect.stringContaining("Ubuntu 24.04's AppArmor") })
    const nouserns = detectBubblewrap({
      bwrap: fakeBwrap(
        "nouserns",
        "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.",
      ),
    })
    expect(nouserns).toMatchObject({
      ok: false,
      reason: expect.stringContaining("user namespaces are disabled"),
    })
    expect(detectBubblewrap({ bwrap: join(dir, "missing-bwrap") })).toMatchObject({
      ok: false,
      reason: expect.stringContaining("is not installed (or not on PATH): install bubblewrap"),
    })
  })

  it("decides: walls where bwrap works; the permission model alone otherwise, said loudly; strict refuses unless allowed", () => {
    const failing = () => ({ ok: false as const, reason: "bwrap is not installed" })
    const never = () => {
      throw new Error("security.sandbox: permission-model must not run bwrap")
    }
    expect(chooseSandbox({}).walls).toBeDefined()
    const weak = chooseSandbox({}, failing)
    expect(weak).toMatchObject({
      walls: undefined,
      detail: expect.stringMatching(
        /^WEAK: Node's permission model only, because bwrap is not installed; agents can see and signal/,
      ),
    })
    expect(chooseSandbox({ mode: "permission-model" }, never).walls).toBeUndefined()
    const required = chooseSandbox({ mode: "bubblewrap" }, failing)
    expect(required.detail).toContain("bubblewrap is required (security.sandbox: bubblewrap) but cannot run")

    expect(sandboxRefusal(weak, "a", "standard")).toBeUndefined()
    expect(sandboxRefusal(weak, "a", "strict")).toContain("security.allow_weak_sandbox: true")
    expect(sandboxRefusal(chooseSandbox({ allowWeak: true }, failing), "a", "strict")).toBeUndefined()
    expect(sandboxRefusal(required, "a", "standard")).toContain('agent "a" needs bubblewrap')
    expect(sandboxRefusal(required, "a", "trusted")).toBeUndefined()
    expect(sandboxRefusal(chooseSandbox({}), "a", "strict")).toBeUndefined()
  })
})

/** A plan for a process that may read `reads` and write `data`, like an agent's. */
const plan = (overrides: Partial<WallPlan> = {}): WallPlan => {
  const walls = host()
  const data = join(dir, "data")
  mkdirSync(data, { recursive: true })
  return {
    bwrap: walls.path,
    runtimeFiles: walls.runtimeFiles,
    reads: [join(dir, "code")],
    dataDir: data,
    writableData: true,
    network: false,
    hidden: [],
    cwd: join(dir, "code"),
    stopSignal: "SIGTERM",
    ...overrides,
  }
}

/** Run `script` with the project's Node inside the walls of `walls` (no permission model): its JSON line. */
const inside = (walls: WallPlan, script: string, env: Record<string, string> = {}) => {
  const { command, args } = walledCommand(walls, process.execPath, ["-e", script])
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true })
  let out = ""
  let err = ""
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString()
  })
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  )
  return { child, exited, output: () => out, errors: () => err }
}

const attempts = `
const fs = require("node:fs"), net = require("node:net"), cp = require("node:child_process")
const r = {}
const tryIt = (name, f) => { try { r[name] = f() ?? "ok" } catch (e) { r[name] = e.code ?? String(e) } }
tryIt("passwd", () => fs.readFileSync("/etc/passwd", "utf8").length)
tryIt("tmp", () => fs.writeFileSync("/tmp/escaped", "x"))
tryIt("code", () => fs.writeFileSync(process.env.CODE + "/escaped", "x"))
tryIt("data", () => fs.writeFileSync(process.env.DATA + "/kept", "x"))
tryIt("secret", () => fs.readFileSync(process.env.SECRET, "utf8"))
tryIt("sh", () => cp.execFileSync("/bin/sh", ["-c", "echo escaped"]).toString())
tryIt("signal", () => process.kill(Number(process.env.SAM_PID), 0))
tryIt("ppid", () => process.ppid)
const socket = net.connect(Number(process.env.PORT), "127.0.0.1")
socket.on("connect", () => { r.tcp = "connected"; socket.destroy(); console.log(JSON.stringify(r)) })
socket.on("error", (e) => { r.tcp = e.code; console.log(JSON.stringify(r)) })
`

describe("the walls alone (no permission model inside)", () => {
  it("hide the host's files, keep all but the data dir read-only, cover SAM's state dir, leave no shell, no SAM to signal and no network", async () => {
    const code = join(dir, "code")
    const state = join(code, ".sam")
    mkdirSync(state, { recursive: true })
    writeFileSync(join(state, "token"), "a-secret-token-of-sam-000000")
    const tcp = createServer((socket) => socket.end())
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve))
    try {
      const run = inside(plan({ hidden: [{ path: state, directory: true }] }), attempts, {
        CODE: code,
        DATA: join(dir, "data"),
        SECRET: join(state, "token"),
        SAM_PID: String(process.pid),
        PORT: String((tcp.address() as AddressInfo).port),
      })
      expect(await run.exited, run.errors()).toEqual({ code: 0, signal: null })
      expect(JSON.parse(run.output())).toEqual({
        passwd: "ENOENT",
        tmp: "EROFS",
        code: "EROFS",
        data: "ok",
        secret: "ENOENT",
        sh: "ENOENT",
        signal: "ESRCH",
        ppid: 1,
        // Its own network namespace: nothing listens there (its loopback may be up or down).
        tcp: expect.stringMatching(/^(ECONNREFUSED|ENETUNREACH)$/),
      })
      expect(existsSync(join(dir, "data", "kept"))).toBe(true)
      expect(existsSync("/tmp/escaped")).toBe(false)
    } finally {
      await new Promise((resolve) => tcp.close(resolve))
    }
  })

  it("let the process stop gracefully on SAM's stop signal, sent to every process of the tree as SAM does", async () => {
    const script = `
      process.on("SIGTERM", () => { require("node:fs").writeFileSync(process.env.DATA + "/stopped", "bye"); process.exit(0) })
      console.log("up"); setInterval(() => {}, 1000)`
    const run = inside(plan(), script, { DATA: join(dir, "data") })
    await new Promise<void>((resolve) => run.child.stdout.once("data", () => resolve()))
    // bwrap outside, bwrap as PID 1 inside, node: all in the group SAM's cell signals.
    const members = readFileSync(`/proc/${run.child.pid}/task/${run.child.pid}/children`, "utf8").trim()
    expect(members).not.toBe("")
    process.kill(-(run.child.pid as number), "SIGTERM")
    expect(await run.exited).toEqual({ code: 0, signal: null })
    expect(readFileSync(join(dir, "data", "stopped"), "utf8")).toBe("bye")
    expect(survivors([run.child.pid as number])).toEqual([])
  })

  it("bind what may be read once, parents first, and the data dir last (writable only for standard)", () => {
    const args = wallArgs(
      plan({
        reads: ["/a/b", "/a", "/c/d/", "/c/d/e"],
        dataDir: "/a/data",
        writableData: false,
        network: true,
      }),
    )
    const binds = args.flatMap((arg, i) =>
      arg === "--ro-bind" && args[i + 1]?.startsWith("/") && !args[i + 1]?.includes("lib")
        ? [args[i + 1]]
        : [],
    )
    expect(binds.filter((b) => b === "/a" || b === "/c/d" || b === "/a/data")).toEqual([
      "/a",
      "/c/d",
      "/a/data",
    ])
    expect(args).not.toContain("--unshare-net")
    expect(args.slice(-7)).toEqual([
      "--ro-bind",
      "/a/data",
      "/a/data",
      "--remount-ro",
      "/",
      "--chdir",
      join(dir, "code"),
    ])
  })
})
