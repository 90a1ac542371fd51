// An instance's `restarts` counts what SAM started again after it had run (a crash, an operator's
// restart, a watch or a dependency): a config change that replaces the instance is no restart of
// its own, whether it rolls one instance at a time or replaces the unit (as Kubernetes counts none
// for a rollout). The count neither grows nor starts again at 0.
import { afterEach, describe, expect, it } from "vitest"
import { type ConfiguredSam, createSam } from "../../src/app/createSam.ts"
import { fixturePath } from "../support/daemon.ts"
import { type TempProject, tempProject } from "../support/plugins.ts"
import { survivors } from "../support/runtime.ts"

let configured: ConfiguredSam | undefined
let project: TempProject | undefined
const pids = new Set<number>()
afterEach(async () => {
  await configured?.stop()
  configured = undefined
  project?.remove()
  project = undefined
  expect(survivors(pids)).toEqual([])
  pids.clear()
})

const web = (env: string, scaling: Record<string, number>) => ({
  deployment: {
    mode: "process",
    command: process.execPath,
    args: [fixturePath("http-service.mjs")],
    env: { GREETING: env },
  },
  health_check: { endpoint: "/health", interval_seconds: 0.05, kind: "readiness" },
  restart_policy: { type: "always", backoff_seconds: 0.05 },
  stop: { grace_seconds: 2 },
  scaling,
})

const samWith = async (env: string, scaling: Record<string, number>) => {
  project = tempProject()
  const p = project
  const write = (e: string, s: Record<string, number>) =>
    p.write("sam.json", JSON.stringify({ services: { web: web(e, s) }, runtime: { state_dir: ".sam" } }))
  write(env, scaling)
  const sam = await createSam(p.path("sam.json"), { logFile: false, plugins: false, auditLog: false })
  configured = sam
  sam.events.subscribe((e) => {
    if (e.type === "transition" && typeof e.pid === "number") pids.add(e.pid)
  })
  const settled = (n: number, pid?: number) =>
    sam.until(
      "web",
      (u) => u.instances.length === n && u.instances.every((i) => i.ready) && u.instances[0]?.pid !== pid,
      20_000,
    )
  /** SIGKILL instance 0 (a process SAM started for this test) and wait until it is back. */
  const crashFirst = async (n: number) => {
    const pid = sam.unitStatus("web").instances[0]?.pid as number
    process.kill(pid, "SIGKILL")
    await settled(n, pid)
  }
  const restarts = () => sam.unitStatus("web").instances.map((i) => i.restarts)
  return { sam, write, settled, crashFirst, restarts }
}

describe("an instance's restart count and a config change", () => {
  it("a rolling change of env keeps each instance's count as it was", async () => {
    const { sam, write, settled, crashFirst, restarts } = await samWith("a", { min_instances: 2 })
    await sam.start()
    await settled(2)
    await crashFirst(2)
    expect(restarts()).toEqual([1, 0])
    const pid = sam.unitStatus("web").instances[0]?.pid
    write("b", { min_instances: 2 })
    expect(await sam.reloader!.reload()).toMatchObject({ ok: true, restarted: ["web"] })
    await sam.until("web", (u) => u.instances.every((i) => i.ready && i.pid !== pid), 20_000)
    expect(restarts()).toEqual([1, 0])
  })

  it("a change that replaces the unit (one instance to several) carries the count over", async () => {
    const { sam, write, settled, crashFirst, restarts } = await samWith("a", { min_instances: 1 })
    await sam.start()
    await settled(1)
    await crashFirst(1)
    expect(restarts()).toEqual([1])
    write("a", { min_instances: 2 })
    expect(await sam.reloader!.reload()).toMatchObject({ ok: true })
    await settled(2)
    expect(restarts()).toEqual([1, 0])
  })
})
