// What every agent runtime does first: take the agent's deployment from the spec, resolve its
// module (a file or a folder with an index), and create its data dir, owned by the user the
// agent will run as when that is another one. An inline agent's data dir is made when it is
// first read instead (inlineAgentDriver.ts): most inline agents never touch one, and at 10,000
// agents the mkdir was a fifth of the start (bench/RESULTS.md, "Findings").
import { chownSync, mkdirSync } from "node:fs"
import { isAbsolute, resolve } from "node:path"
import { Effect } from "effect"
import { agentEntry } from "../../../agent/loadAgent.ts"
import type { AgentDeployment } from "../../unitSpec.ts"
import { type DriverContext, DriverError } from "../driver.ts"

export interface PreparedAgent {
  readonly agent: AgentDeployment
  /** Absolute path of the agent module (as configured: file or folder). */
  readonly path: string
  /** The module file SAM will import: `path`, or the index file in that folder. */
  readonly entry: string
}

/** Create `dir` (and its parents); a failure names the dir. */
export const makeDataDir = (dir: string, owner?: { readonly uid?: number; readonly gid?: number }): void => {
  try {
    mkdirSync(dir, { recursive: true })
    if (owner) chownSync(dir, owner.uid ?? -1, owner.gid ?? -1)
  } catch (error) {
    throw new Error(
      `cannot create the agent's data dir ${dir}: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}

/** Resolve the agent's module; `dataDir: "now"` (default) also creates its data dir. */
export const prepareAgent = (
  ctx: DriverContext,
  owner?: { readonly uid?: number; readonly gid?: number },
  dataDir: "now" | "on-first-use" = "now",
): Effect.Effect<PreparedAgent, DriverError> =>
  Effect.gen(function* () {
    const unit = ctx.spec.id
    const agent = ctx.spec.agent
    if (!agent) return yield* new DriverError({ unit, message: "an agent runtime needs the agent's path" })
    const path = isAbsolute(agent.path) ? agent.path : resolve(agent.path)
    const entry = yield* Effect.try({
      try: () => {
        const entry = agentEntry(path)
        if (dataDir === "now") makeDataDir(agent.dataDir, owner)
        return entry
      },
      catch: (error) =>
        new DriverError({ unit, message: error instanceof Error ? error.message : String(error) }),
    })
    return { agent, path, entry }
  })
