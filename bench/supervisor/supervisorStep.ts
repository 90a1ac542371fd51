// The supervisor step: for each service count, every tool (raw spawn, SAM's CLI, SAM embedded,
// PM2 7) runs `repeats` rounds, interleaved so machine drift hits all alike; the figures are
// medians over rounds (cold start, memory) and over every kill (restart), with the targets.
import type { BenchContext, BenchStep } from "../harness/context.ts"
import type { Figure } from "../harness/figure.ts"
import { megabytes, summary } from "../harness/stats.ts"
import { measureRound, type Round } from "./measureTool.ts"
import { pm2 } from "./pm2.ts"
import { rawSpawn } from "./rawSpawn.ts"
import { samCli } from "./samCli.ts"
import { samLibrary } from "./samLibrary.ts"
import type { SupervisorTool } from "./tool.ts"

const STEP = "supervisor"

const figuresFor = (count: number, rounds: ReadonlyMap<SupervisorTool, Round[]>): Figure[] => {
  const of = (tool: SupervisorTool) => rounds.get(tool) ?? []
  const cold = (tool: SupervisorTool) =>
    of(tool).length ? summary(of(tool).map((r) => r.coldStartMs)) : undefined
  const restarts = (tool: SupervisorTool) => of(tool).flatMap((r) => r.restartMs)
  const restart = (tool: SupervisorTool) => (restarts(tool).length ? summary(restarts(tool)) : undefined)
  const resident = (tool: SupervisorTool) => {
    const bytes = of(tool).flatMap((r) => (r.residentBytes === undefined ? [] : [megabytes(r.residentBytes)]))
    return bytes.length ? summary(bytes) : undefined
  }
  const pm2Cold = cold(pm2)
  const pm2Restart = restart(pm2)
  const pm2Resident = resident(pm2)
  const rawRestart = restart(rawSpawn)
  const figures: Figure[] = []
  const add = (figure: Figure | undefined) => {
    if (figure) figures.push(figure)
  }
  const base = (subject: string, value: number | undefined) =>
    value === undefined ? {} : { baseline: { subject, value } }

  const coldName = `cold start, ${count} services`
  for (const tool of [rawSpawn, pm2, samCli, samLibrary]) {
    const c = cold(tool)
    if (!c) continue
    const vsPm2 = tool === samCli || tool === samLibrary ? base(pm2.subject, pm2Cold?.value) : {}
    add({
      step: STEP,
      name: coldName,
      subject: tool.subject,
      unit: "ms",
      ...c,
      ...vsPm2,
      ...(tool === samCli && pm2Cold ? { target: { kind: "ratio-at-most", ratio: 0.5 } } : {}),
    })
  }
  const restartName = `restart after SIGKILL, median, ${count} services`
  for (const tool of [rawSpawn, pm2, samCli, samLibrary]) {
    const r = restart(tool)
    if (!r) continue
    if (tool === rawSpawn) add({ step: STEP, name: restartName, subject: tool.subject, unit: "ms", ...r })
    else if (tool === pm2)
      add({
        step: STEP,
        name: restartName,
        subject: tool.subject,
        unit: "ms",
        ...r,
        ...base(rawSpawn.subject, rawRestart?.value),
      })
    else {
      if (pm2Restart)
        add({
          step: STEP,
          name: restartName,
          subject: tool.subject,
          unit: "ms",
          ...r,
          ...base(pm2.subject, pm2Restart.value),
          ...(tool === samCli ? { target: { kind: "ratio-at-most", ratio: 0.5 } } : {}),
        })
      add({
        step: STEP,
        name: restartName,
        subject: tool.subject,
        unit: "ms",
        ...r,
        ...base(rawSpawn.subject, rawRestart?.value),
        ...(tool === samCli ? { target: { kind: "ratio-at-most", ratio: 1.5 } } : {}),
      })
    }
  }
  for (const tool of [rawSpawn, pm2, samCli, samLibrary]) {
    const r = restart(tool)
    if (!r) continue
    add({
      step: STEP,
      name: `restart after SIGKILL, max, ${count} services`,
      subject: tool.subject,
      unit: "ms",
      value: r.spread.max,
      spread: r.spread,
    })
  }
  const residentName = `supervisor RSS after settling, ${count} services`
  for (const tool of [pm2, samCli, samLibrary]) {
    const m = resident(tool)
    if (!m) continue
    add({
      step: STEP,
      name: residentName,
      subject: tool.subject,
      unit: "MB",
      ...m,
      ...(tool === pm2 ? {} : base(pm2.subject, pm2Resident?.value)),
      ...(tool === samCli && pm2Resident ? { target: { kind: "ratio-at-most", ratio: 1.0 } } : {}),
      ...(tool === samCli
        ? { note: "SAM: the daemon and its reaper; PM2: the God daemon's tree; services excluded (/proc)" }
        : {}),
    })
  }
  return figures
}

export const supervisorStep: BenchStep = {
  name: "supervisor",
  summary:
    "cold start, restart after SIGKILL and supervisor memory: raw spawn, PM2 7, SAM (CLI and embedded)",
  needsBuild: true,
  run: async (context: BenchContext) => {
    const { options } = context
    const tools: SupervisorTool[] = [rawSpawn, samCli, samLibrary, ...(options.pm2 ? [pm2] : [])].filter(
      (tool) => options.tools === undefined || options.tools.includes(tool.id),
    )
    for (const tool of tools) await tool.prepare?.(context)
    const figures: Figure[] = []
    for (const count of options.counts) {
      const rounds = new Map<SupervisorTool, Round[]>(tools.map((tool) => [tool, []]))
      for (let round = 0; round < options.repeats; round++)
        for (const tool of tools) {
          context.log(
            `bench: supervisor ${tool.subject}, ${count} services, round ${round + 1}/${options.repeats}`,
          )
          const result = await measureRound(tool, count, round, context)
          rounds.get(tool)!.push(result)
          context.log(
            `bench:   cold start ${result.coldStartMs.toFixed(0)} ms; ` +
              (result.residentBytes === undefined
                ? ""
                : `RSS ${megabytes(result.residentBytes).toFixed(1)} MB (${result.processes} processes); `) +
              `restarts ${result.restartMs.map((ms) => ms.toFixed(0)).join(" ")} ms`,
          )
        }
      figures.push(...figuresFor(count, rounds))
    }
    return figures
  },
}
