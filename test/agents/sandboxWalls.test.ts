// The sandbox's walls, probed from inside by a test agent as an attacker would: files outside,
// writes outside, child processes, signals to SAM and to a sibling service, SAM's API with and
// without guessing, TCP for `strict`. With bubblewrap (installed here and in CI) every probe is
// denied, and the namespaces are checked from outside too; with `security.sandbox:
// permission-model` (the switch that stands for a host where bwrap cannot run) the reduced
// guarantees of the fallback are asserted, and `strict` refuses to start unless allowed.
import { mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from "node:fs"
import { type AddressInfo, createServer, type Server } from "node:net"
import { join } from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { type ApiServer, startApiServer } from "../../src/api/apiServer.ts"
import { ensureLocalToken } from "../../src/api/localToken.ts"
import type { SandboxPolicy } from "../../src/runtime/sandboxChoice.ts"
import { runSam } from "../cli/runSam.ts"
import {
  type AgentHarness,
  agentUnit,
  eventsOf,
  probeAgent,
  removeScratch,
  scratch,
  startAgents,
  stopAll,
  transitionTo,
} from "../support/agents.ts"
import { nodeService, survivors } from "../support/runtime.ts"

afterEach(async () => {
  expect(await stopAll()).toEqual([])
})
afterAll(removeScratch)

const probes = ["read_file", "write_outside", "spawn_child", "signal", "api", "connect", "pids", "write_data"]

interface Scene {
  readonly h: AgentHarness
  readonly api: ApiServer
  readonly tcpPort: number
  readonly tokenFile: string
  readonly siblingPid: number
  close(): Promise<void>
}

type Probed = "netted" | "offline" | "locked"

const agents: Record<Probed, Parameters<typeof agentUnit>[1]> = {
  netted: { agent: { capabilities: probes, network: true } },
  offline: { agent: { capabilities: probes } },
  locked: { agent: { capabilities: probes, securityProfile: "strict" } },
}

/**
 * A SAM with a sibling service and one probe agent (`netted`: standard, needs the network;
 * `offline`: standard; `locked`: strict), its control API on a local admin token kept in a
 * state dir, and a TCP listener to connect to.
 */
const scene = async (agent: Probed, sandbox: SandboxPolicy): Promise<Scene> => {
  const stateDir = join(scratch(), "state")
  mkdirSync(stateDir, { recursive: true })
  const { token, file: tokenFile } = ensureLocalToken(stateDir)
  const h = await startAgents([nodeService("sibling", "http-service.mjs"), agentUnit(agent, agents[agent])], {
    sandbox: { ...sandbox, hiddenPaths: [stateDir] },
  })
  expect(h.sam.agents.status(agent)).toMatchObject({ state: "running", ready: true })
  const api = await startApiServer({ sam: h.sam, port: 0, localToken: token })
  const tcp: Server = createServer((socket) => socket.end())
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve))
  return {
    h,
    api,
    tcpPort: (tcp.address() as AddressInfo).port,
    tokenFile,
    siblingPid: h.sam.services.status("sibling").pid as number,
    close: async () => {
      await api.close()
      await new Promise((resolve) => tcp.close(resolve))
    },
  }
}

/** Invoke `capability` on the scene's agent: its output, or the message it failed with. */
const probe = async (s: Scene, capability: string, input: unknown) => {
  try {
    return { ok: true as const, output: (await s.h.sam.invoke(capability, input)).output }
  } catch (error) {
    return { ok: false as const, message: (error as Error).message }
  }
}

const guesses = ["admin", "local", "sam", "0000000000000000", "x".repeat(43)]

/** The agent's Node process (inside bwrap's process tree when walled). */
const nodePidOf = (pid: number): number => {
  const node = realpathSync(process.execPath)
  const queue = [pid]
  while (queue.length > 0) {
    const next = queue.shift() as number
    try {
      if (realpathSync(`/proc/${next}/exe`) === node) return next
      queue.push(
        ...readFileSync(`/proc/${next}/task/${next}/children`, "utf8")
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(Number),
      )
    } catch {
      // gone or not readable: not it
    }
  }
  throw new Error(`no node process under pid ${pid}`)
}

const ns = (pid: number | "self", kind: "pid" | "net" | "mnt" | "ipc") =>
  readlinkSync(`/proc/${pid}/ns/${kind}`)

describe("with bubblewrap's walls", () => {
  for (const agent of ["netted", "offline", "locked"] as const)
    it(`every probe from inside ${agent} is denied: files, writes, children, signals to SAM and a sibling, SAM's API, TCP`, async () => {
      const s = await scene(agent, {})
      try {
        expect(s.h.sam.sandbox.walls, s.h.sam.sandbox.detail).toBeDefined()
        expect(s.h.sam.sandbox.detail).toMatch(/^bubblewrap \S+ \(\/\S+\) around Node's permission model/)
        const denied = `permission denied by the "${agent === "locked" ? "strict" : "standard"}" security profile`
        const outside = join(scratch(), "escaped.txt")
        expect(await probe(s, "read_file", { path: "/etc/passwd" })).toMatchObject({
          ok: false,
          message: expect.stringContaining(`${denied}: FileSystemRead /etc/passwd`),
        })
        expect(await probe(s, "read_file", { path: s.tokenFile })).toMatchObject({
          ok: false,
          message: expect.stringContaining(denied),
        })
        expect(await probe(s, "write_outside", { path: outside })).toMatchObject({
          ok: false,
          message: expect.stringContaining(denied),
        })
        expect(await probe(s, "spawn_child", {})).toMatchObject({
          ok: false,
          message: expect.stringContaining(`${denied}: ChildProcess`),
        })
        // Its own PID namespace: SAM and the sibling do not exist in it.
        expect(await probe(s, "pids", {})).toMatchObject({ ok: true, output: { ppid: 1 } })
        for (const pid of [process.pid, s.siblingPid])
          expect(await probe(s, "signal", { pid, signal: "SIGTERM" })).toEqual({
            ok: false,
            message: 'capability "signal" failed: kill ESRCH',
          })
        expect(s.h.sam.services.status("sibling")).toMatchObject({ state: "running", pid: s.siblingPid })

        const url = `${s.api.url}/api/status`
        if (agent === "netted") {
          // It needs the network, so it reaches SAM's API: 401 without a token and for every guess.
          expect(await probe(s, "api", { url, tokens: guesses })).toEqual({
            ok: true,
            output: [401, 401, 401, 401, 401, 401],
          })
        } else {
          expect(await probe(s, "api", { url })).toMatchObject({
            ok: false,
            message: expect.stringContaining(denied),
          })
          expect(await probe(s, "connect", { port: s.tcpPort })).toMatchObject({
            ok: false,
            message: expect.stringContaining(denied),
          })
        }
        // The whole answer, so a failure says why.
        expect(await probe(s, "write_data", {})).toMatchObject({ ok: agent !== "locked" })
      } finally {
        await s.close()
      }
    })

  it("from outside: own PID, IPC and mount namespaces, no network namespace of SAM's unless needed, a root with only what it may read", async () => {
    for (const agent of ["netted", "offline", "locked"] as const) {
      const s = await scene(agent, {})
      let pid = 0
      try {
        pid = nodePidOf(s.h.sam.agents.status(agent).pid as number)
        for (const kind of ["pid", "ipc", "mnt"] as const) expect(ns(pid, kind)).not.toBe(ns("self", kind))
        expect(ns(pid, "net") === ns("self", "net")).toBe(agent === "netted")
        const status = readFileSync(`/proc/${pid}/status`, "utf8")
        expect(status).toMatch(/^CapEff:\s+0+$/m)
        expect(status).toMatch(/^NoNewPrivs:\s+1$/m)
        const root = readdirSync(`/proc/${pid}/root`)
        for (const absent of ["bin", "boot", "home", "root", "sbin", "srv", "var"])
          expect(root).not.toContain(absent)
        const etc = readdirSync(`/proc/${pid}/root/etc`)
        expect(etc).toEqual(
          expect.arrayContaining(
            agent === "netted" ? ["hosts", "ld.so.cache", "resolv.conf"] : ["ld.so.cache"],
          ),
        )
        for (const secret of ["passwd", "shadow", "ssh"]) expect(etc).not.toContain(secret)
        // SAM's state dir (with its token) is not in the view at all.
        expect(() => readdirSync(`/proc/${pid}/root${join(scratch(), "state")}`)).toThrow()
      } finally {
        await s.close()
        expect(await stopAll()).toEqual([])
        // The Node inside the walls was in the cell too: nothing of the tree is left.
        expect(survivors([pid])).toEqual([])
      }
    }
  })

  it("an agent that dies by a signal inside the walls is reported as dying by that signal", async () => {
    const h = await startAgents([
      agentUnit("doomed", { agent: { capabilities: ["die"] }, restart: { type: "temporary" } }),
    ])
    expect(h.sam.sandbox.walls).toBeDefined()
    await expect(h.sam.invoke("die", { signal: "SIGKILL" })).rejects.toBeDefined()
    const exit = await h.next(
      (e) => e.type === "transition" && e.unit === "doomed" && /^exited (on|with)/.test(String(e.reason)),
    )
    expect(exit).toMatchObject({ reason: expect.stringMatching(/^exited on SIGKILL/) })
  })

  it("SAM's state dir inside an agent's directory is covered over: its token cannot be read, though the permission model would allow it", async () => {
    const project = join(scratch(), "project")
    const stateDir = join(project, ".sam")
    mkdirSync(stateDir, { recursive: true })
    const { file } = ensureLocalToken(stateDir)
    writeFileSync(
      join(project, "reader.mjs"),
      'import { readFileSync } from "node:fs"\nexport default { capabilities: { read: (input) => readFileSync(input.path, "utf8") } }\n',
    )
    const h = await startAgents(
      [agentUnit("nosy", { agent: { path: join(project, "reader.mjs"), capabilities: ["read"] } })],
      { sandbox: { hiddenPaths: [stateDir] } },
    )
    await expect(h.sam.invoke("read", { path: file })).rejects.toMatchObject({
      message: expect.stringContaining("ENOENT"),
    })
    expect((await h.sam.invoke("read", { path: join(project, "reader.mjs") })).output).toContain(
      "capabilities",
    )

    // The same agent on the permission model alone reads the token: SAM warns about it.
    const weak = await startAgents(
      [agentUnit("nosy", { agent: { path: join(project, "reader.mjs"), capabilities: ["read"] } })],
      { sandbox: { mode: "permission-model", hiddenPaths: [stateDir] } },
    )
    expect(((await weak.sam.invoke("read", { path: file })).output as string).trim().length).toBeGreaterThan(
      16,
    )
    expect(eventsOf(weak, "agent.sandbox-weak")).toEqual([
      expect.objectContaining({ detail: expect.stringContaining(`agent "nosy" may read ${stateDir}`) }),
    ])
  })
})

describe("on Node's permission model alone (security.sandbox: permission-model)", () => {
  for (const agent of ["netted", "locked"] as const)
    it(`${agent}: files, children and TCP stay denied, but SAM's and a sibling's processes can be seen and signalled`, async () => {
      const s = await scene(agent, { mode: "permission-model", allowWeak: true })
      try {
        expect(s.h.sam.sandbox.walls).toBeUndefined()
        expect(s.h.sam.sandbox.detail).toContain("Node's permission model only")
        const denied = `permission denied by the "${agent === "locked" ? "strict" : "standard"}" security profile`
        expect(await probe(s, "read_file", { path: "/etc/passwd" })).toMatchObject({
          message: expect.stringContaining(denied),
        })
        expect(await probe(s, "read_file", { path: s.tokenFile })).toMatchObject({
          message: expect.stringContaining(denied),
        })
        expect(await probe(s, "spawn_child", {})).toMatchObject({ message: expect.stringContaining(denied) })
        // What the walls took away: the agent shares SAM's PID namespace...
        const { output } = await probe(s, "pids", {})
        expect((output as { ppid: number }).ppid).not.toBe(1)
        // ...so it may signal SAM and its sibling (signal 0 only asks; SIGTERM would stop them).
        expect(await probe(s, "signal", { pid: process.pid })).toEqual({ ok: true, output: "sent" })
        expect(await probe(s, "signal", { pid: s.siblingPid })).toEqual({ ok: true, output: "sent" })
        if (agent === "locked") {
          // Node 26 still denies TCP without --allow-net (strict never has it).
          expect(await probe(s, "connect", { port: s.tcpPort })).toMatchObject({
            message: expect.stringContaining(denied),
          })
        } else {
          // The API still wants a credential the agent was never given.
          expect(await probe(s, "api", { url: `${s.api.url}/api/status`, tokens: guesses })).toEqual({
            ok: true,
            output: [401, 401, 401, 401, 401, 401],
          })
        }
      } finally {
        await s.close()
      }
    })

  it("a strict agent refuses to start unless security.allow_weak_sandbox is true; a standard one starts", async () => {
    const h = await startAgents(
      [
        agentUnit("locked", { agent: { securityProfile: "strict" }, restart: { type: "temporary" } }),
        agentUnit("plain", {}),
      ],
      { sandbox: { mode: "permission-model" } },
    )
    const refused = await h.next(transitionTo("locked", "error"))
    expect(refused).toMatchObject({
      reason: expect.stringContaining(
        'agent "locked" has security_profile strict, which needs bubblewrap\'s walls, and they are not available here',
      ),
    })
    expect((refused as { reason: string }).reason).toContain("security.allow_weak_sandbox: true")
    expect(h.sam.agents.status("plain")).toMatchObject({ state: "running", ready: true })
  })
})

describe("sam validate and sam start say how agents are walled in", () => {
  it("name bubblewrap when it works; on the permission model alone a strict agent is a problem (exit 2) unless allowed", async () => {
    const dir = join(scratch(), "cli-project")
    mkdirSync(dir, { recursive: true })
    const write = (security: Record<string, unknown>) =>
      writeFileSync(
        join(dir, "sam.config.json"),
        JSON.stringify({ agents: { locked: { path: probeAgent, security_profile: "strict" } }, security }),
      )
    const validate = () => runSam(["validate", "--config", "sam.config.json"], { cwd: dir })

    write({})
    const walled = await validate()
    expect(walled.code, walled.stderr).toBe(0)
    expect(walled.stdout).toMatch(
      /^sandbox: bubblewrap \S+ \(\/\S+\) around Node's permission model: each agent has its own PID, IPC and mount namespaces/m,
    )

    write({ sandbox: "permission-model" })
    const weak = await validate()
    expect(weak.code).toBe(2)
    expect(weak.stdout).toMatch(/^not ok: 1 agent, 0 services\n/)
    expect(weak.stdout).toContain(
      "sandbox: Node's permission model only (security.sandbox: permission-model, no bubblewrap): agents can see and signal SAM's and every other process of its user",
    )
    expect(weak.stderr).toContain(
      'sam: agent "locked" has security_profile strict, which needs bubblewrap\'s walls',
    )
    const start = await runSam(["start", "--config", "sam.config.json", "--port", "0"], { cwd: dir })
    expect(start.code).toBe(2)
    expect(start.stdout).toContain("sam: sandbox: Node's permission model only")
    expect(start.stdout).toContain('agent "locked" has security_profile strict')
    expect(start.stdout).toContain("sam: nothing was started")
    expect(start.stdout).not.toContain("units ready")

    write({ sandbox: "permission-model", allow_weak_sandbox: true })
    expect((await validate()).code).toBe(0)
  })
})
