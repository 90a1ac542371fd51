// The agents step: idle agent memory per runtime against a bare Node HTTP process (idleMemory.ts),
// then inline agents at scale and invoke round trips in a child process of their own
// (inlineScale.ts), with the targets.
import type { BenchContext, BenchStep } from "../harness/context.ts"
import type { Figure } from "../harness/figure.ts"
import { runFigureScript } from "../harness/scriptStep.ts"
import { megabytes, summary } from "../harness/stats.ts"
import { idleAgentMemory } from "./idleMemory.ts"

const STEP = "agents"

export const agentsStep: BenchStep = {
  name: "agents",
  summary: "idle sandbox/process/worker agent RSS vs bare Node; inline agents at scale; IPC round trip",
  run: async (context: BenchContext) => {
    const readings = await idleAgentMemory(context)
    const bare = summary(readings.map((r) => megabytes(r.bareNode)))
    const baseline = { subject: "bare Node HTTP process", value: bare.value }
    const name = "idle agent RSS"
    const figures: Figure[] = [
      { step: STEP, name, subject: "bare Node HTTP process", unit: "MB", ...bare },
      {
        step: STEP,
        name,
        subject: "sandbox agent (process tree)",
        unit: "MB",
        ...summary(readings.map((r) => megabytes(r.sandbox))),
        baseline,
        target: { kind: "ratio-at-most", ratio: 1.3 },
        note: "the agent's whole process tree (bubblewrap's processes too, where the host has it) after settling",
      },
      {
        step: STEP,
        name,
        subject: "process agent",
        unit: "MB",
        ...summary(readings.map((r) => megabytes(r.process))),
        baseline,
      },
      {
        step: STEP,
        name,
        subject: "worker agent (thread in SAM)",
        unit: "MB",
        ...summary(readings.map((r) => megabytes(r.samWith - r.samWithout))),
        baseline,
        note: "SAM's RSS with the worker agent minus without it (separate sam start runs, alternating)",
      },
    ]
    const { inlineAgents, invokeCalls, fromSources } = context.options
    context.log(
      `bench: agents: ${inlineAgents} inline agents, then ${invokeCalls} invoke round trips per runtime`,
    )
    figures.push(
      ...(await runFigureScript(
        context,
        "bench/agents/inlineScale.ts",
        [String(inlineAgents), String(invokeCalls), fromSources ? "sources" : "dist"],
        ["--expose-gc"],
        STEP,
      )),
    )
    return figures
  },
}
