// Which container engine CLI (docker, podman) SAM would use, and whether it can run containers:
// facts about the host that the container driver needs at start and `sam validate` reports early.
import { execFile } from "node:child_process"
import { findExecutable } from "../containment/index.ts"

const engines = ["docker", "podman"]

const onPath = (name: string): string | undefined =>
  findExecutable(name, process.env.PATH ?? "", process.cwd())

/** The configured engine (a name on PATH or a path), else the first of docker/podman on PATH. */
export const findContainerEngine = (configured?: string): string | undefined =>
  configured ? onPath(configured) : engines.map(onPath).find((e) => e !== undefined)

/**
 * Ask the engine whether it can run containers (`<engine> version`): a docker CLI without a
 * running daemon would otherwise fail every start with an exit code and no explanation.
 */
export const engineProblem = (engine: string): Promise<string | undefined> =>
  new Promise((resolve) => {
    execFile(engine, ["version"], { timeout: 10_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve(undefined)
      const detail =
        `${stderr}`
          .trim()
          .split("\n")
          .find((l) => l.trim() !== "") ?? error.message
      resolve(`container engine "${engine}" is installed but cannot run containers: ${detail}`)
    })
  })
