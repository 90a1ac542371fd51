import { chmodSync, existsSync, readFileSync, statSync } from "node:fs"
import { type AddressInfo, createServer } from "node:net"
import { dirname, join } from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import {
  agentUnit,
  eventsOf,
  probeAgent,
  removeScratch,
  scratch,
  startAgents,
  stopAll,
  transitionTo,
} from "../support/agents.ts"
import { fixture } from "../support/runtime.ts"

afterEach(async () => {
  expect(await stopAll()).toEqual([])
})
afterAll(removeScratch)

const escapes = ["read_passwd", "spawn_child", "write_outside", "write_data", "env"]

describe("sandbox security profiles", () => {
  it("a standard agent cannot read /etc/passwd, spawn a child or write outside its data dir, and SAM reports each refusal", async () => {
    const outside = join(scratch(), "escaped.txt")
    const h = await startAgents([agentUnit("guarded", { agent: { capabilities: escapes } })])

    for (const [capability, input] of [
      ["read_passwd", {}],
      ["spawn_child", {}],
      ["write_outside", { path: outside }],
    ] as const) {
      await expect(h.sam.invoke(capability, input)).rejects.toMatchObject({
        _tag: "CapabilityError",
        reason: "failed",
        message: expect.stringContaining('permission denied by the "standard" security profile'),
      })
    }
    expect(existsSync(outside)).toBe(false)
    const reports = eventsOf(h, "agent.permission-denied")
    expect(reports.map((e) => e.capability)).toEqual(["read_passwd", "spawn_child", "write_outside"])
    expect(reports.map((e) => String(e.detail))).toEqual([
      expect.stringContaining("FileSystemRead /etc/passwd"),
      expect.stringContaining("ChildProcess"),
      expect.stringContaining(`FileSystemWrite ${outside}`),
    ])
    // Its own data dir stays writable, and a refusal does not cost the agent its life.
    expect((await h.sam.invoke("write_data", {})).output).toBe("kept")
    expect(h.sam.agents.status("guarded")).toMatchObject({ state: "running", ready: true, restarts: 0 })
  })

  it("an agent whose module imports a file outside its directory fails to start, and SAM names the path and the profile", async () => {
    const outside = fixture("agents/outside.mjs")
    const h = await startAgents([
      agentUnit("reacher", {
        agent: { path: fixture("agents/reaches-out"), capabilities: ["secret"] },
        restart: { type: "temporary" },
      }),
    ])
    const failed = await h.next(transitionTo("reacher", "error"))
    expect(failed).toMatchObject({
      reason: expect.stringContaining(
        `failed to start: permission denied by the "standard" security profile: FileSystemRead ${outside}; `,
      ),
    })
    expect(eventsOf(h, "agent.permission-denied")[0]).toMatchObject({
      unit: "reacher",
      during: "start",
      detail: expect.stringContaining(`FileSystemRead ${outside}`),
    })
  })

  it("a listen refused later, outside the handler, is the agent's own unhandled error: it exits and is restarted", async () => {
    const h = await startAgents([agentUnit("listener", { agent: { capabilities: ["listen", "echo"] } })])
    const failed = h.next((e) => e.type === "transition" && e.unit === "listener" && e.to === "error")
    expect((await h.sam.invoke("listen", {})).output).toBe("asked")
    const exit = await failed
    await h.next(
      (e) => e.type === "transition" && e.unit === "listener" && e.to === "running.ready" && e.id > exit.id,
    )
    expect((await h.sam.invoke("echo", 1)).output).toBe(1)
  })

  it("a standard agent reaches the network only when its config allows it", async () => {
    const server = createServer((socket) => socket.end())
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const { port } = server.address() as AddressInfo
      const offline = await startAgents([agentUnit("offline", { agent: { capabilities: ["connect"] } })])
      await expect(offline.sam.invoke("connect", { port })).rejects.toMatchObject({
        message: expect.stringContaining('permission denied by the "standard" security profile'),
      })
      const online = await startAgents([
        agentUnit("online", { agent: { capabilities: ["connect"], network: true } }),
      ])
      expect((await online.sam.invoke("connect", { port })).output).toBe("connected")
      // Node's warning about SAM's own --allow-net flag is not the agent's to explain in its log.
      const said = (await online.sam.logs.read("online", { lines: 1000 })).map((r) => r.line)
      expect(
        said.filter((line) => line.includes("ExperimentalWarning") || line.includes("--trace-warnings")),
      ).toEqual([])
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it("a strict agent may not write even its data dir", async () => {
    const h = await startAgents([
      agentUnit("locked", { agent: { securityProfile: "strict", capabilities: escapes } }),
    ])
    await expect(h.sam.invoke("write_data", {})).rejects.toMatchObject({
      message: expect.stringContaining('permission denied by the "strict" security profile'),
    })
  })

  it("a trusted agent may read, spawn and write anywhere", async () => {
    const outside = join(scratch(), "trusted.txt")
    const h = await startAgents([
      agentUnit("trusty", { agent: { securityProfile: "trusted", capabilities: escapes } }),
    ])
    expect((await h.sam.invoke("read_passwd", {})).output).toMatch(/^root:/)
    expect((await h.sam.invoke("spawn_child", {})).output).toBe("child ran")
    expect((await h.sam.invoke("write_outside", { path: outside })).output).toBe("written")
    expect(existsSync(outside)).toBe(true)
    expect(eventsOf(h, "agent.permission-denied")).toEqual([])
  })

  it("an agent sees only the environment its config declares, never SAM's", async () => {
    process.env.SAM_TEST_SECRET = "do-not-leak"
    try {
      const h = await startAgents([
        agentUnit("envy", { agent: { capabilities: escapes, environment: { GREETING: "hello" } } }),
      ])
      const env = (await h.sam.invoke("env", {})).output as Record<string, string>
      // Exactly what docs/AGENTS.md lists ("Environment").
      expect(Object.keys(env).sort()).toEqual([
        "GREETING",
        "PWD",
        "SAM_AGENT_DATA_DIR",
        "SAM_CELL",
        "SAM_GATEWAY_TOKEN",
        "SAM_INSTANCE",
        "SAM_OWNER",
        "SAM_UNIT_ID",
      ])
      expect(env.GREETING).toBe("hello")
      expect(env.SAM_UNIT_ID).toBe("envy")
      expect(env.SAM_TEST_SECRET).toBeUndefined()
      expect(env.PATH).toBeUndefined()
      expect(env.HOME).toBeUndefined()
    } finally {
      delete process.env.SAM_TEST_SECRET
    }
  })
})

/** Whether every folder above `path` lets other users through (o+x): the agent user must read its code. */
const reachableByOthers = (path: string): boolean => {
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false
  }
  return true
}

describe("running agents as another user", () => {
  it.runIf(process.getuid?.() === 0 && reachableByOthers(probeAgent) && reachableByOthers(process.execPath))(
    "with security.run_as, a root SAM starts the agent as that uid/gid and it can still write its data dir",
    async () => {
      // The scratch dir is private (0700) to its creator: the agent's user must be able to reach
      // its data dir inside it.
      chmodSync(scratch(), 0o755)
      const h = await startAgents([
        agentUnit("nobody", {
          agent: { capabilities: escapes, runAs: { uid: 65534, gid: 65534 } },
        }),
      ])
      const pid = h.sam.agents.status("nobody").pid as number
      const status = readFileSync(`/proc/${pid}/status`, "utf8")
      expect(status).toMatch(/^Uid:\s+65534\s/m)
      expect(status).toMatch(/^Gid:\s+65534\s/m)
      expect((await h.sam.invoke("write_data", {})).output).toBeDefined()
    },
  )
})
