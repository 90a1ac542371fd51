// A chaos run against the real daemon: random SIGKILLs of unit processes, and of SAM itself
// (restarted each time), then the checks that must hold afterwards. Used by the CI chaos test
// (a few hundred kills) and by bench/chaos.bench.ts (a thousand, with SAM's RSS and fds).
import { readdirSync, readFileSync, readlinkSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { type Daemon, fixturePath, type Project, project } from "./daemon.ts"
import { survivors } from "./runtime.ts"

export interface ChaosOptions {
  readonly units: number
  /** Rounds of unit kills; after each of the first `samKills` rounds SAM is SIGKILLed and restarted. */
  readonly rounds: number
  readonly samKills: number
  readonly killsPerRound: number
  /** Pause between two unit kills. */
  readonly paceMs: number
}

export interface ChaosReport {
  readonly unitKills: number
  readonly samKills: number
  readonly restartsSeen: number
  readonly pidsSeen: number
  /** Pids of unit processes (any unit, any run) still alive that are not a unit's current process. */
  readonly orphans: ReadonlyArray<number>
  /** Units with more than one live process carrying their SAM_UNIT_ID. */
  readonly duplicates: ReadonlyArray<string>
  /** Units not in their desired state at the end. */
  readonly wrongState: ReadonlyArray<string>
  /** Store rows that disagree with what runs. */
  readonly storeProblems: ReadonlyArray<string>
  /** SAM's resident memory and open fds after the first settle and at the end. */
  readonly sam: {
    readonly rssBefore: number
    readonly rssAfter: number
    readonly fdsBefore: number
    readonly fdsAfter: number
  }
}

interface ServiceView {
  readonly id: string
  readonly status: string
  readonly ready: boolean
  readonly pid: number | null
  readonly restarts: number
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

const rssOf = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"))
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024
}
const fdsOf = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length

/** Live processes whose environment says SAM_UNIT_ID=<unit>, by unit (this project's only). */
const processesByUnit = (units: ReadonlyArray<string>, marker: string): Map<string, number[]> => {
  const found = new Map<string, number[]>(units.map((u) => [u, []]))
  for (const name of readdirSync("/proc")) {
    const pid = Number(name)
    if (!Number.isInteger(pid)) continue
    let environ: string
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "latin1")
      const state = readFileSync(`/proc/${pid}/stat`, "utf8")
      if (/\) [ZX] /.test(state)) continue
    } catch {
      continue
    }
    const vars = environ.split("\0")
    if (!vars.includes(marker)) continue
    const unit = vars.find((v) => v.startsWith("SAM_UNIT_ID="))?.slice("SAM_UNIT_ID=".length)
    if (unit !== undefined && found.has(unit)) found.get(unit)!.push(pid)
  }
  return found
}

export const runChaos = async (
  options: ChaosOptions,
  log: (line: string) => void = () => {},
): Promise<ChaosReport> => {
  const p: Project = project()
  const marker = `CHAOS_RUN=${p.dir}`
  const ids = Array.from({ length: options.units }, (_, i) => `svc${i}`)
  const held = ids[ids.length - 1]!
  p.writeConfig({
    runtime: { shutdown_timeout_seconds: 5 },
    services: Object.fromEntries(
      ids.map((id) => [
        id,
        {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("http-service.mjs")],
            env: { CHAOS_RUN: p.dir },
          },
          health_check: { endpoint: "/health", interval_seconds: 1, kind: "readiness" },
          // A chaos run kills far more often than a real outage: no unit may give up.
          restart_policy: {
            max_restarts: 100_000,
            window_seconds: 60,
            backoff_seconds: 0.02,
            max_backoff_seconds: 0.2,
          },
        },
      ]),
    ),
  })
  let unitKills = 0
  let samKills = 0
  let restartsSeen = 0
  const allPids = new Set<number>()
  let rssBefore = 0
  let fdsBefore = 0
  const list = async (sam: Daemon) =>
    (await sam.api<{ services: ServiceView[] }>("GET", "/api/services")).body.services
  const settled = async (sam: Daemon) => {
    const deadline = Date.now() + 30_000
    for (;;) {
      const services = await list(sam)
      const ok = services.every((s) =>
        s.id === held ? s.status === "stopped" : s.status === "running" && s.ready,
      )
      if (ok) return services
      if (Date.now() > deadline) {
        // What SAM said about the units that did not settle (why each last exited), for the report.
        const unsettled = services.filter((s) => s.id !== held && !(s.status === "running" && s.ready))
        const said = sam
          .output()
          .split("\n")
          .filter((line) => unsettled.some((s) => line.includes(` ${s.id}`)))
          .slice(-10)
        throw new Error(
          `units did not settle: ${JSON.stringify(services)}\nSAM's last lines about them:\n${said.join("\n")}`,
        )
      }
      await pause(50)
    }
  }
  try {
    let sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    // The operator's stop of one unit must survive every SAM kill.
    await sam.api("POST", `/api/services/${held}/stop`)
    for (let round = 0; round < options.rounds; round++) {
      const services = await settled(sam)
      for (const s of services) if (s.pid !== null) allPids.add(s.pid)
      if (round === 0) {
        rssBefore = rssOf(sam.pid)
        fdsBefore = fdsOf(sam.pid)
      }
      const target = unitKills + options.killsPerRound
      for (let attempt = 0; unitKills < target && attempt < options.killsPerRound * 4; attempt++) {
        const live = (await list(sam)).filter((s) => s.pid !== null && s.status === "running")
        for (const s of live) allPids.add(s.pid as number)
        const victim = live[Math.floor(Math.random() * live.length)]
        if (victim?.pid) {
          try {
            process.kill(victim.pid, "SIGKILL")
            unitKills++
          } catch {
            // Already gone (it was restarting).
          }
        }
        await pause(options.paceMs)
      }
      restartsSeen += (await list(sam)).reduce((n, s) => n + s.restarts, 0)
      if (round >= options.samKills) continue
      sam.child.kill("SIGKILL")
      samKills++
      await sam.exited
      log(`chaos: round ${round + 1}: ${unitKills} unit kills so far; SAM killed`)
      sam = await p.start()
      await sam.waitForOutput("press Ctrl+C")
    }
    const final = await settled(sam)
    const current = new Set(final.flatMap((s) => (s.pid === null ? [] : [s.pid])))
    const byUnit = processesByUnit(ids, marker)
    const duplicates = [...byUnit]
      .filter(([, pids]) => pids.length > 1)
      .map(([u, pids]) => `${u}: ${pids.join(", ")}`)
    const wrongState = final
      .filter((s) => (s.id === held ? s.status !== "stopped" : !(s.status === "running" && s.ready)))
      .map((s) => `${s.id}: ${s.status}`)
    const orphans = survivors([...allPids].filter((pid) => !current.has(pid)))
    // The store as the running SAM keeps it: one instance row per running unit with its pid,
    // the operator's stop, and every earlier run closed (cleanly stopped or swept).
    const db = new DatabaseSync(join(p.stateDir, "state.db"), { readOnly: true })
    const storeProblems: string[] = []
    const rows = db.prepare("SELECT unit, pid FROM instances").all() as Array<{ unit: string; pid: number }>
    for (const s of final) {
      const row = rows.filter((r) => r.unit === s.id)
      if (s.pid !== null && (row.length !== 1 || row[0]!.pid !== s.pid))
        storeProblems.push(`instances: ${s.id} runs as ${s.pid}, recorded ${JSON.stringify(row)}`)
      if (s.pid === null && row.length > 0)
        storeProblems.push(`instances: ${s.id} is stopped, recorded ${JSON.stringify(row)}`)
    }
    const desired = db.prepare("SELECT unit, state FROM desired_state").all() as Array<{
      unit: string
      state: string
    }>
    if (!desired.some((d) => d.unit === held && d.state === "stopped"))
      storeProblems.push(
        `desired_state: the operator's stop of ${held} is missing: ${JSON.stringify(desired)}`,
      )
    const open = db.prepare("SELECT sam_id, pid FROM sam_runs WHERE stopped_at IS NULL").all() as Array<{
      pid: number
    }>
    if (open.length !== 1 || open[0]!.pid !== sam.pid)
      storeProblems.push(`sam_runs: open runs ${JSON.stringify(open)}`)
    const integrity = db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }
    if (integrity.integrity_check !== "ok")
      storeProblems.push(`integrity_check: ${integrity.integrity_check}`)
    db.close()
    const report: ChaosReport = {
      unitKills,
      samKills,
      restartsSeen,
      pidsSeen: allPids.size,
      orphans,
      duplicates,
      wrongState,
      storeProblems,
      sam: { rssBefore, rssAfter: rssOf(sam.pid), fdsBefore, fdsAfter: fdsOf(sam.pid) },
    }
    return report
  } finally {
    const left = await p.cleanup()
    if (left.length > 0) log(`chaos: processes left after cleanup: ${left.join(", ")}`)
  }
}

/** For the record: the fds a process holds, by kind (socket, pipe, file path). */
export const fdKinds = (pid: number): Record<string, number> => {
  const kinds: Record<string, number> = {}
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = "?"
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`)
    } catch {
      continue
    }
    const kind = target.startsWith("socket:")
      ? "socket"
      : target.startsWith("pipe:")
        ? "pipe"
        : target.startsWith("anon_inode:")
          ? target
          : "file"
    kinds[kind] = (kinds[kind] ?? 0) + 1
  }
  return kinds
}
