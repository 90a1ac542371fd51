import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, describe, expect, it, vi } from "vitest"
import { ProcessUsage } from "../../src/api/resources.ts"
import { serviceView } from "../../src/api/views.ts"
import { CapabilityError } from "../../src/runtime/capabilities/capabilityRouter.ts"
import { agentUnit, removeScratch, scratch, startAgents, stopAll, transitionTo } from "../support/agents.ts"
import { fixture } from "../support/runtime.ts"

afterEach(async () => {
  expect(await stopAll()).toEqual([])
})
afterAll(removeScratch)

describe("capability routing", () => {
  it("invoke balances a burst across two agents offering the same capability", async () => {
    const h = await startAgents([
      agentUnit("left", { agent: { capabilities: ["whoami", "stream"] } }),
      agentUnit("right", { agent: { capabilities: ["whoami", "stream"] } }),
    ])
    const served = await Promise.all(Array.from({ length: 10 }, () => h.sam.invoke("whoami", {})))
    const byAgent = Map.groupBy(served, (r) => r.agent)
    expect([...byAgent.keys()].sort()).toEqual(["left", "right"])
    expect(byAgent.get("left")).toHaveLength(5)
    expect(byAgent.get("right")).toHaveLength(5)
    // Each answer came from the process the router named.
    for (const r of served) expect(String(r.output)).toMatch(new RegExp(`^${r.agent}#0:\\d+$`))
  })

  it("streams chunks in order, both as a stream and collected by invoke", async () => {
    const h = await startAgents([agentUnit("streamer", { agent: { capabilities: ["stream"] } })])
    const chunks: unknown[] = []
    for await (const chunk of h.sam.capabilities.stream("stream", { count: 200 })) chunks.push(chunk)
    expect(chunks).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    expect((await h.sam.invoke("stream", { count: 5 })).output).toEqual([1, 2, 3, 4, 5])
  })

  it("a caller that stops reading a stream early cancels it in the agent", async () => {
    const h = await startAgents([agentUnit("stopper", { agent: { capabilities: ["stream", "echo"] } })])
    const taken: unknown[] = []
    for await (const chunk of h.sam.capabilities.stream("stream", { count: 1_000_000 })) {
      taken.push(chunk)
      if (taken.length === 3) break
    }
    expect(taken).toEqual([1, 2, 3])
    expect((await h.sam.invoke("echo", "next")).output).toBe("next")
  })

  it("a capability declared in config but not offered fails the start with a clear reason", async () => {
    const h = await startAgents([
      agentUnit("liar", { agent: { capabilities: ["echo", "translate"] }, restart: { type: "temporary" } }),
    ])
    const failed = await h.next(transitionTo("liar", "error"))
    expect(failed).toMatchObject({
      reason: expect.stringContaining('agent liar does not offer "translate" declared in its config'),
    })
    await h.next(transitionTo("liar", "stopped"))
    // Declared but its only provider is down: unavailable (not "no such capability"), naming it.
    await expect(h.sam.invoke("echo", 1)).rejects.toMatchObject({
      reason: "unavailable",
      message:
        'capability "echo" is unavailable: its providers liar (stopped) are not running; start one with `sam start liar`',
    })
  })

  // Process and worker agents load through Node's own loader (an inline one, under vitest, would
  // load through vitest's, which compiles TypeScript whatever the package says).
  it("a .ts agent in a CommonJS package fails its start saying how to fix it (process, worker)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-cjs-agent-"))
    try {
      // What `npm init -y` writes, and an agent in TypeScript beside it.
      writeFileSync(join(dir, "package.json"), '{ "name": "app", "version": "1.0.0", "type": "commonjs" }\n')
      const entry = join(dir, "index.ts")
      writeFileSync(
        entry,
        'import { defineAgent } from "sam/agent"\nexport default defineAgent({ capabilities: {} })\n',
      )
      for (const runtime of ["process", "worker"] as const) {
        const h = await startAgents([
          agentUnit(`cjs-${runtime}`, {
            runtime,
            agent: { path: dir, capabilities: [] },
            restart: { type: "temporary" },
          }),
        ])
        const failed = await h.next(transitionTo(`cjs-${runtime}`, "error"))
        expect(failed, runtime).toMatchObject({
          reason: expect.stringContaining(
            `Cannot use import statement outside a module (Node loaded ${entry} as CommonJS: name it .mts or .mjs, or set "type": "module" in the package.json above it`,
          ),
        })
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("a capability offered but not declared is reported as a warning and not routed", async () => {
    const h = await startAgents([agentUnit("modest", { agent: { capabilities: ["echo"] } })])
    const warning = await h.next((e) => e.type === "agent.undeclared-capability" && e.unit === "modest")
    expect((warning as unknown as { capabilities: string[] }).capabilities).toContain("whoami")
    expect((await h.sam.invoke("echo", 2)).output).toBe(2)
    // The refusal says who offers it and what to write.
    const refused = await h.sam.invoke("whoami", {}).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(CapabilityError)
    expect((refused as CapabilityError).message).toBe(
      'no agent or plugin offers capability "whoami": modest offers it, but the config does not declare it (a capability is routed only once listed): add "whoami" to agents.modest.capabilities',
    )
    await expect(h.sam.invoke("nobody-has-this", {})).rejects.toThrow(
      /^no agent or plugin offers capability "nobody-has-this"$/,
    )
    // Once it is stopped, nothing offers it: the plain answer.
    await h.sam.agents.stop("modest")
    await expect(h.sam.invoke("whoami", {})).rejects.toThrow(
      /^no agent or plugin offers capability "whoami"$/,
    )
  })
})

describe.each(["worker", "inline"] as const)("the %s runtime", (runtime) => {
  it("serves values and streams, enforces timeouts and restarts like the others", async () => {
    const h = await startAgents([
      agentUnit(`${runtime}-agent`, {
        runtime,
        agent: { capabilities: ["echo", "stream", "slow"], timeoutMs: 200 },
      }),
    ])
    expect(h.sam.agents.status(`${runtime}-agent`)).toMatchObject({
      state: "running",
      ready: true,
      pid: undefined,
    })
    expect((await h.sam.invoke("echo", { n: 1 })).output).toEqual({ n: 1 })
    // Its definition's description reaches the router (GET /api/capabilities, sam capabilities).
    expect(h.sam.capabilities.description("echo")).toBe("answers its input")
    expect(h.sam.capabilities.description("stream")).toBeUndefined()
    expect((await h.sam.invoke("stream", { count: 4 })).output).toEqual([1, 2, 3, 4])
    const aborted = h.nextLine((line) => line.startsWith("slow: signal aborted"))
    await expect(h.sam.invoke("slow", {})).rejects.toMatchObject({ reason: "timeout" })
    await aborted
    const before = h.events.at(-1)?.id ?? 0
    await h.sam.agents.restart(`${runtime}-agent`)
    await h.next((e) => transitionTo(`${runtime}-agent`, "running.ready")(e) && e.id > before)
    expect((await h.sam.invoke("echo", 2)).output).toBe(2)
  })
})

describe("an agent's data dir", () => {
  it("is made at start for a worker agent, and on first read (ctx.agent.dataDir or SAM_AGENT_DATA_DIR) for an inline one", async () => {
    const dir = (id: string) => join(scratch(), "data", id)
    const unit = (id: string, runtime: "worker" | "inline") =>
      agentUnit(id, { runtime, agent: { capabilities: ["env", "write_data", "identity"], dataDir: dir(id) } })
    // One SAM each, so that every invoke reaches the agent it is meant for.
    await startAgents([unit("eager", "worker")])
    expect(existsSync(dir("eager"))).toBe(true)
    const lazy = await startAgents([unit("lazy", "inline")])
    expect(existsSync(dir("lazy"))).toBe(false)
    expect((await lazy.sam.invoke("write_data", {})).output).toBe("kept")
    expect(existsSync(join(dir("lazy"), "note.txt"))).toBe(true)
    const byEnv = await startAgents([unit("by-env", "inline")])
    expect(existsSync(dir("by-env"))).toBe(false)
    const env = (await byEnv.sam.invoke("env", {})).output as Record<string, string>
    expect(env.SAM_AGENT_DATA_DIR).toBe(dir("by-env"))
    expect(existsSync(dir("by-env"))).toBe(true)
    // ctx.agent spreads like the other runtimes' plain object (and the spread makes the dir).
    const bySpread = await startAgents([unit("by-spread", "inline")])
    expect(existsSync(dir("by-spread"))).toBe(false)
    expect((await bySpread.sam.invoke("identity", {})).output).toEqual({
      id: "by-spread",
      instance: 0,
      dataDir: dir("by-spread"),
    })
    expect(existsSync(dir("by-spread"))).toBe(true)
  })
})

describe("an agent's persona (docs/CONFIG.md)", () => {
  for (const runtime of ["inline", "worker", "process", "sandbox"] as const)
    it(`is ctx.agent.persona, and undefined for an agent without one (${runtime})`, async () => {
      const h = await startAgents([
        agentUnit("teacher", {
          runtime,
          agent: { capabilities: ["persona"], persona: "academic: cite sources" },
        }),
        agentUnit("plain", { runtime, agent: { capabilities: ["persona_too"] } }),
      ])
      expect((await h.sam.invoke("persona", {})).output).toBe("academic: cite sources")
      expect((await h.sam.invoke("persona_too", {})).output).toBe("none")
    })
})

describe("a result across the structured-clone boundary (docs/AGENTS.md)", () => {
  for (const runtime of ["process", "worker"] as const)
    it(`a class instance arrives as its fields, a function is refused (${runtime})`, async () => {
      const h = await startAgents([
        agentUnit("cloner", { runtime, agent: { capabilities: ["instance_of", "with_function"] } }),
      ])
      expect((await h.sam.invoke("instance_of", {})).output).toEqual({ x: 1 })
      await expect(h.sam.invoke("with_function", {})).rejects.toMatchObject({
        message: expect.stringMatching(/the result cannot be sent to SAM: .*could not be cloned/),
      })
    })
})

describe("a worker agent's usage", () => {
  it("is its thread's heap and CPU time: sam ps and the API show them, though it has no pid", async () => {
    const h = await startAgents(
      [agentUnit("busy", { runtime: "worker", agent: { capabilities: ["burn", "echo"] } })],
      {
        usageIntervalMs: 50,
      },
    )
    const viewOf = () => serviceView(h.sam.unitStatus("busy"), new ProcessUsage(), undefined)
    await vi.waitFor(() => expect(viewOf().memory_bytes).toBeGreaterThan(1024 * 1024), {
      timeout: 10_000,
      interval: 20,
    })
    expect(viewOf().pid).toBeNull()
    // Busy on a core for a while: its CPU shows, as a process agent's would.
    await h.sam.invoke("burn", { ms: 400 })
    await vi.waitFor(() => expect(viewOf().cpu_percent).toBeGreaterThan(0), { timeout: 10_000, interval: 20 })
  })
})

describe("process.exit() in a worker agent", () => {
  it("ends that worker thread only, and SAM restarts it as it would a process", async () => {
    const h = await startAgents([
      agentUnit("quitter", { runtime: "worker", agent: { capabilities: ["exit", "echo"] } }),
    ])
    const failed = h.next((e) => e.type === "transition" && e.unit === "quitter" && e.to === "error")
    await h.sam.invoke("exit", { code: 3 }).catch(() => undefined)
    const exit = await failed
    expect(exit).toMatchObject({ reason: expect.stringMatching(/^exited with code 3/) })
    await h.next((e) => transitionTo("quitter", "running.ready")(e) && e.id > exit.id)
    expect((await h.sam.invoke("echo", "still here")).output).toBe("still here")
  })
})

describe("an agent's log entry longer than monitoring.logs.max_line_kb", () => {
  for (const runtime of ["inline", "process", "worker"] as const)
    it(`is cut there with the marker, as a process's output line is (${runtime})`, async () => {
      const h = await startAgents(
        [agentUnit("talker", { runtime, agent: { path: fixture("agents/logger"), capabilities: ["say"] } })],
        { maxLineBytes: 1024 },
      )
      const cut = h.nextLine((line) => line.startsWith("info: "), "talker")
      await h.sam.invoke("say", { text: "x".repeat(100_000) })
      const line = await cut
      expect(line).toBe(`info: ${"x".repeat(1024 - 6)} … [line truncated: longer than 1024 bytes]`)
    })
})

describe("a handler that throws", () => {
  for (const runtime of ["inline", "process", "worker"] as const)
    it(`is in the agent's output with its stack (${runtime})`, async () => {
      const h = await startAgents([
        agentUnit("talker", {
          runtime,
          agent: { path: fixture("agents/logger"), capabilities: ["say", "fail"] },
        }),
      ])
      const logged = h.nextLine((line) => line.includes('capability "fail" failed: Error: kaboom'), "talker")
      // The caller gets its message and its code, in every runtime.
      await expect(h.sam.invoke("fail", {})).rejects.toMatchObject({
        reason: "failed",
        code: "E_KABOOM",
        agent: "talker",
        message: 'capability "fail" failed: kaboom (code E_KABOOM)',
      })
      expect(await logged).toContain('capability "fail" failed: Error: kaboom')
    })
})

/** What relay_failure answers of the logger agent's `fail`: the SDK's CapabilityError, as data. */
const kaboomAsData = {
  sdkClass: true,
  _tag: "CapabilityError",
  name: "CapabilityError",
  capability: "fail",
  reason: "failed",
  code: "E_KABOOM",
  agent: "failer",
  message: 'capability "fail" failed: kaboom (code E_KABOOM)',
}

/** An agent of `runtime` that relays calls (relay_failure) to ones that fail or take forever. */
const failureScene = (runtime: "inline" | "worker" | "process" | "sandbox") =>
  startAgents([
    agentUnit("caller", { runtime, agent: { capabilities: ["relay_failure"] } }),
    agentUnit("failer", {
      runtime: "inline",
      agent: { path: fixture("agents/logger"), capabilities: ["fail"] },
    }),
    agentUnit("sleeper", { runtime: "inline", agent: { capabilities: ["slow"] } }),
  ])

describe("ctx.invoke's failure (docs/AGENTS.md)", () => {
  for (const runtime of ["inline", "worker", "process", "sandbox"] as const)
    it(`is the SDK's CapabilityError with the router's reason, the handler's code and the agent (${runtime})`, async () => {
      const h = await failureScene(runtime)
      const failure = async (input: Record<string, unknown>) =>
        (await h.sam.invoke("relay_failure", input)).output
      expect(await failure({ capability: "fail" })).toEqual(kaboomAsData)
      expect(await failure({ capability: "slow", timeoutMs: 300 })).toEqual({
        sdkClass: true,
        _tag: "CapabilityError",
        name: "CapabilityError",
        capability: "slow",
        reason: "timeout",
        agent: "sleeper",
        message: 'capability "slow" timed out after 300 ms',
      })
      // Cancelled in the calling agent: which agent was serving it is not always known there.
      expect(await failure({ capability: "slow", cancelAfterMs: 100 })).toMatchObject({
        sdkClass: true,
        _tag: "CapabilityError",
        name: "CapabilityError",
        capability: "slow",
        reason: "cancelled",
        message: 'invocation of "slow" was cancelled',
      })
      expect(await failure({ capability: "nope" })).toEqual({
        sdkClass: true,
        _tag: "CapabilityError",
        name: "CapabilityError",
        capability: "nope",
        reason: "not_found",
        message: 'no agent or plugin offers capability "nope"',
      })
    })
})

describe("ctx.invokeStream (docs/AGENTS.md)", () => {
  for (const runtime of ["inline", "worker", "process", "sandbox"] as const) {
    it(`reads another agent's stream chunk by chunk, in order, past SAM's window of unread chunks (${runtime})`, async () => {
      const h = await startAgents([
        agentUnit("relayer", { runtime, agent: { capabilities: ["relay_stream"] } }),
        agentUnit("producer", { runtime: "process", agent: { capabilities: ["stream", "echo"] } }),
      ])
      const relayed: unknown[] = []
      for await (const chunk of h.sam.capabilities.stream("relay_stream", {
        capability: "stream",
        input: { count: 200 },
      }))
        relayed.push(chunk)
      expect(relayed).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
      // A plain value is one chunk; a slow reader still gets every chunk.
      expect((await h.sam.invoke("relay_stream", { capability: "echo", input: "one" })).output).toEqual([
        "one",
      ])
      expect(
        (await h.sam.invoke("relay_stream", { capability: "stream", input: { count: 40 }, pause_ms: 2 }))
          .output,
      ).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    })

    it(`cancels the call in the serving agent when the reader leaves the loop early (${runtime})`, async () => {
      const h = await startAgents([
        agentUnit("relayer", { runtime, agent: { capabilities: ["relay_stream"] } }),
        agentUnit("producer", { runtime: "process", agent: { capabilities: ["stream_big", "echo"] } }),
      ])
      const cancelled = h.nextLine((line) => line.startsWith("stream_big: cancelled after"), "producer")
      const output = await h.sam.invoke("relay_stream", {
        capability: "stream_big",
        input: { count: 100_000, mib: 0, pause_ms: 1 },
        take: 3,
      })
      expect(output.output).toEqual(["", "", ""])
      expect(await cancelled).toMatch(/^stream_big: cancelled after \d+ chunks/)
      expect((await h.sam.invoke("echo", "after")).output).toBe("after")
    })
  }

  for (const runtime of ["inline", "process"] as const)
    it(`fails the loop with the SDK's CapabilityError, as ctx.invoke rejects (${runtime})`, async () => {
      const h = await failureScene(runtime)
      const failure = async (input: Record<string, unknown>) =>
        (await h.sam.invoke("relay_failure", { ...input, stream: true })).output
      expect(await failure({ capability: "fail" })).toEqual(kaboomAsData)
      expect(await failure({ capability: "slow", timeoutMs: 300 })).toMatchObject({
        sdkClass: true,
        capability: "slow",
        reason: "timeout",
        message: 'capability "slow" timed out after 300 ms',
      })
      expect(await failure({ capability: "slow", cancelAfterMs: 100 })).toMatchObject({
        sdkClass: true,
        capability: "slow",
        reason: "cancelled",
        message: 'invocation of "slow" was cancelled',
      })
      expect(await failure({ capability: "nope" })).toMatchObject({
        sdkClass: true,
        capability: "nope",
        reason: "not_found",
        message: 'no agent or plugin offers capability "nope"',
      })
    })
})

describe("a chain of ctx.invoke calls (docs/AGENTS.md)", () => {
  const chain = (...names: string[]) => names.join(" → ")
  const refused = (capability: string, names: string[]) => ({
    refused: {
      reason: "too_deep",
      capability,
      message: `capability "${capability}" was refused: its call chain ${chain(...names)} is ${names.length} calls deep, more than the 16 SAM routes; a capability that calls itself, or agents that call each other in a cycle, must stop by themselves`,
    },
  })
  for (const runtime of ["inline", "worker", "process", "sandbox"] as const)
    it(`is refused too_deep past 16 calls, naming the chain, a cycle of agents too (${runtime})`, async () => {
      const h = await startAgents([
        agentUnit("looper", { runtime, agent: { capabilities: ["recurse", "ping"] } }),
        agentUnit("partner", { runtime: "inline", agent: { capabilities: ["pong"] } }),
      ])
      // The outer call and 15 nested ones: 16 deep, served.
      expect((await h.sam.invoke("recurse", { n: 15 })).output).toEqual({ bottom: true })
      const seventeen = Array.from({ length: 17 }, () => "recurse")
      expect((await h.sam.invoke("recurse", { n: 200 })).output).toEqual(refused("recurse", seventeen))
      const cycle = Array.from({ length: 17 }, (_, i) => (i % 2 === 0 ? "ping" : "pong"))
      expect((await h.sam.invoke("ping", { n: 200 })).output).toEqual(refused("ping", cycle))
    })

  for (const runtime of ["inline", "worker", "process", "sandbox"] as const)
    it(`gets no more than what is left of its parent's deadline (${runtime})`, async () => {
      const h = await startAgents([
        agentUnit("caller", { runtime, agent: { capabilities: ["relay_failure"] } }),
        agentUnit("sleeper", { runtime: "inline", agent: { capabilities: ["slow"] } }),
      ])
      const ended: Array<{ capability: string; result: string }> = []
      h.sam.capabilities.observeInvocations((r) => ended.push({ capability: r.capability, result: r.result }))
      // The handler calls "slow" with no deadline of its own, and not with ctx.signal. Both
      // deadlines pass at once: the caller gets its own timeout, or the handler's answer, the
      // nested call's.
      const began = Date.now()
      const outcome = await h.sam.invoke("relay_failure", { capability: "slow" }, { timeoutMs: 500 }).then(
        (r) => r.output,
        (error: unknown) => error,
      )
      expect(outcome).toMatchObject({
        reason: "timeout",
        message: expect.stringMatching(
          /^capability "(relay_failure|slow)" timed out after \d+ ms(, what was left of the deadline of "relay_failure", the call its caller was serving)?$/,
        ),
      })
      await vi.waitFor(() => expect(ended).toContainEqual({ capability: "slow", result: "timeout" }), {
        timeout: 3_000,
        interval: 20,
      })
      expect(Date.now() - began).toBeLessThan(2_000)
    })

  it("gets no more than what is left of its agent's own timeout_seconds either", async () => {
    const h = await startAgents([
      agentUnit("caller", { runtime: "worker", agent: { capabilities: ["relay_failure"], timeoutMs: 500 } }),
      agentUnit("sleeper", { runtime: "inline", agent: { capabilities: ["slow"] } }),
    ])
    const ended: Array<{ capability: string; result: string }> = []
    h.sam.capabilities.observeInvocations((r) => ended.push({ capability: r.capability, result: r.result }))
    await h.sam.invoke("relay_failure", { capability: "slow" }).catch(() => undefined)
    await vi.waitFor(() => expect(ended).toContainEqual({ capability: "slow", result: "timeout" }), {
      timeout: 3_000,
      interval: 20,
    })
  })
})
