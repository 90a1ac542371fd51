import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { containerDriver, containerRunArgs } from "../../src/runtime/drivers/containerDriver.ts"
import { externalDriver } from "../../src/runtime/drivers/externalDriver.ts"
import { processDriver } from "../../src/runtime/drivers/processDriver.ts"
import { EventBus } from "../../src/runtime/eventBus.ts"
import type { UnitSpec } from "../../src/runtime/unitSpec.ts"
import { fixture, httpCheck, nodeService, survivors, testSupervisor, waitFor } from "../support/runtime.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const supervise = (specs: UnitSpec[]) => {
  const bus = new EventBus()
  const supervisor = testSupervisor(specs, [], bus, [
    ["process", processDriver],
    ["container", containerDriver],
    ["external", externalDriver],
  ])
  const pids = new Set<number>()
  bus.subscribe((e) => {
    if (e.type === "transition" && e.pid) pids.add(e.pid)
  })
  cleanups.push(async () => {
    await supervisor.dispose()
    expect(survivors(pids)).toEqual([])
  })
  return { supervisor, bus, pids }
}

/** A container service run by `engine` (a stand-in executable in these tests). */
const containerUnit = (
  id: string,
  engine: string,
  image: string,
  overrides: Parameters<typeof nodeService>[2] = {},
): UnitSpec => ({
  ...nodeService(id, "http-service.mjs", overrides),
  runtime: "container",
  container: { engine, image, ports: [], volumes: [], env: {}, args: [] },
})

describe("container driver", () => {
  it("builds the engine's run command from image, ports, volumes and env", () => {
    const args = containerRunArgs(
      "qdrant",
      0,
      {
        image: "qdrant/qdrant:v1.7.0",
        ports: ["6333:6333"],
        volumes: ["/srv/q:/qdrant/storage"],
        env: { A: "1" },
        args: [],
      },
      ["A", "PORT"],
    )
    expect(args).toEqual([
      "run",
      "--rm",
      "--name",
      "sam-qdrant-0",
      "-p",
      "6333:6333",
      "-v",
      "/srv/q:/qdrant/storage",
      "-e",
      "A",
      "-e",
      "PORT",
      "qdrant/qdrant:v1.7.0",
    ])
  })

  it("drives a container through the same lifecycle, with a real executable standing in for the engine", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-engine-"))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const log = join(dir, "calls.log")
    process.env.FAKE_ENGINE_LOG = log
    process.env.FAKE_ENGINE_NODE = process.execPath
    process.env.FAKE_ENGINE_SERVICE = fixture("http-service.mjs")
    const spec: UnitSpec = containerUnit("vectors", fixture("fake-engine.sh"), "example/vectors:1", {
      probes: [httpCheck()],
    })
    const { supervisor } = supervise([spec])
    const report = await supervisor.startAll()
    expect(report.ready).toEqual(["vectors"])
    const pid = supervisor.status("vectors").pid as number
    process.kill(pid, "SIGKILL")
    await waitFor(supervisor.runners("vectors")[0]!, (r) => r.state === "running" && r.ready && r.pid !== pid)
    await supervisor.command("vectors", "stop")
    const calls = readFileSync(log, "utf8").trim().split("\n")
    expect(calls[0]).toBe("version")
    expect(calls[1]).toBe("rm -f sam-vectors-0")
    // Variables by name only: no value (a secret, the gateway token) shows in the engine's argv.
    expect(calls[2]).toBe(
      "run --rm --name sam-vectors-0 -e SAM_UNIT_ID -e SAM_INSTANCE -e PORT example/vectors:1",
    )
    expect(calls[3]).toMatch(/^env PORT=\d+ SAM_UNIT_ID=vectors SAM_INSTANCE=0$/)
    expect(calls.filter((c) => c.startsWith("run "))).toHaveLength(2)
    expect(calls.at(-1)).toBe("rm -f sam-vectors-0")
  })

  it("fails to start with a clear error when no container engine exists", async () => {
    const spec: UnitSpec = containerUnit("qdrant", "no-such-engine-here", "qdrant/qdrant", {
      restart: { type: "temporary" },
    })
    const { supervisor, bus } = supervise([spec])
    const errors: string[] = []
    bus.subscribe((e) => {
      if (e.type === "transition" && e.to === "error") errors.push(e.reason)
    })
    await supervisor.startAll()
    expect(errors[0]).toBe(
      'start failed: container engine "no-such-engine-here" not found or not executable (deployment.engine)',
    )
  })
})

describe("container engine without a daemon", () => {
  it("fails the start with the engine's own explanation", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-engine-"))
    cleanups.push(() => {
      delete process.env.FAKE_ENGINE_DOWN
      rmSync(dir, { recursive: true, force: true })
    })
    process.env.FAKE_ENGINE_LOG = join(dir, "calls.log")
    process.env.FAKE_ENGINE_DOWN = "1"
    const spec: UnitSpec = containerUnit("vectors", fixture("fake-engine.sh"), "example/vectors:1", {
      restart: { type: "temporary" },
    })
    const { supervisor, bus } = supervise([spec])
    const errors: string[] = []
    bus.subscribe((e) => {
      if (e.type === "transition" && e.to === "error") errors.push(e.reason)
    })
    await supervisor.startAll()
    expect(errors[0]).toBe(
      `start failed: container engine "${fixture("fake-engine.sh")}" is installed but cannot run containers: Cannot connect to the container daemon. Is the daemon running?`,
    )
    expect(readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n")).toEqual(["version"])
  })
})

describe("external driver", () => {
  it("monitors a URL SAM does not run: ready while it answers, unready when it stops answering", async () => {
    let healthy = true
    const server: Server = createServer((_req, res) => {
      res.writeHead(healthy ? 200 : 503)
      res.end()
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const address = server.address() as { port: number }
    const spec: UnitSpec = {
      ...nodeService("llm", "http-service.mjs", {
        probes: [httpCheck({ role: "readiness", intervalMs: 50 })],
      }),
      runtime: "external",
      externalUrl: `http://127.0.0.1:${address.port}`,
    }
    const { supervisor } = supervise([spec])
    expect((await supervisor.startAll()).ready).toEqual(["llm"])
    expect(supervisor.status("llm").pid).toBeUndefined()
    healthy = false
    await waitFor(supervisor.runners("llm")[0]!, (r) => r.state === "running" && !r.ready)
    healthy = true
    await waitFor(supervisor.runners("llm")[0]!, (r) => r.ready)
  })
})

describe("process driver", () => {
  it("reports a missing command clearly instead of crashing", async () => {
    const spec = nodeService("typo", "http-service.mjs", { restart: { type: "temporary" } })
    const { supervisor, bus } = supervise([
      { ...spec, process: { command: "definitely-not-a-command", args: [], env: {}, inheritEnv: true } },
    ])
    const reasons: string[] = []
    bus.subscribe((e) => {
      if (e.type === "transition" && e.to === "error") reasons.push(e.reason)
    })
    await supervisor.startAll()
    expect(reasons[0]).toBe(
      'start failed: command not found: "definitely-not-a-command" (check deployment.command and PATH)',
    )
  })

  it("runs several instances of a unit, each on its own port with SAM_INSTANCE set", async () => {
    const { supervisor } = supervise([
      nodeService("pool", "http-service.mjs", { instances: 3, probes: [httpCheck()] }),
    ])
    expect((await supervisor.startAll()).ready).toEqual(["pool"])
    const instances = supervisor.status("pool").instances
    expect(new Set(instances.map((i) => i.port)).size).toBe(3)
    const answers = await Promise.all(
      instances.map((i) => fetch(`http://127.0.0.1:${i.port}/`).then((r) => r.json())),
    )
    expect(answers.map((a) => a.instance)).toEqual(["0", "1", "2"])
  })
})
