// Containers through the docker/podman CLI: SAM builds the `run` command from
// deployment.image/ports/volumes and supervises the foreground CLI process like any other
// process (the CLI proxies signals to the container). The engine is deployment.engine, else the
// first of docker/podman found on PATH; with neither, starting fails with a clear error.
import { execFile, spawnSync } from "node:child_process"
import { accessSync, constants } from "node:fs"
import { delimiter, isAbsolute, join } from "node:path"
import { Effect } from "effect"
import type { ContainerDeployment } from "../unitSpec.ts"
import { type Driver, DriverError } from "./driver.ts"
import { childEnvironment, spawnInstance } from "./processDriver.ts"

const engines = ["docker", "podman"]

/** Absolute path of an executable on PATH, or undefined. */
export const findOnPath = (name: string, path = process.env.PATH ?? ""): string | undefined => {
  if (isAbsolute(name)) return isExecutable(name) ? name : undefined
  for (const dir of path.split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

export const findContainerEngine = (configured?: string): string | undefined =>
  configured ? findOnPath(configured) : engines.map((e) => findOnPath(e)).find((e) => e !== undefined)

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

/** The container's name: stable per unit instance so a leftover can be removed by name. */
export const containerName = (unit: string, instance: number): string => `sam-${unit}-${instance}`

/** The engine CLI arguments for `run`; pure, so it is tested directly. */
export const containerRunArgs = (
  unit: string,
  instance: number,
  deployment: ContainerDeployment,
  port: number | undefined,
): ReadonlyArray<string> => [
  "run",
  "--rm",
  "--name",
  containerName(unit, instance),
  ...deployment.ports.flatMap((p) => ["-p", p]),
  ...deployment.volumes.flatMap((v) => ["-v", v]),
  ...Object.entries({ ...deployment.env, ...(port === undefined ? {} : { PORT: String(port) }) }).flatMap(
    ([k, v]) => ["-e", `${k}=${v}`],
  ),
  deployment.image,
  ...deployment.args,
]

export const containerDriver: Driver = {
  name: "container",
  start: (ctx) =>
    Effect.gen(function* () {
      const deployment = ctx.spec.container
      const unit = ctx.spec.id
      if (!deployment)
        return yield* new DriverError({ unit, message: "container services need deployment.image" })
      const engine = findContainerEngine(deployment.engine)
      if (!engine) {
        return yield* new DriverError({
          unit,
          message: deployment.engine
            ? `container engine "${deployment.engine}" not found or not executable (deployment.engine)`
            : "no container engine found: install docker or podman, or set deployment.engine to its path",
        })
      }
      const problem = yield* Effect.promise(() => engineProblem(engine))
      if (problem) return yield* new DriverError({ unit, message: problem })
      const name = containerName(unit, ctx.instance)
      // A container left by a previous SAM run would make `run --name` fail: remove it first.
      spawnSync(engine, ["rm", "-f", name], { stdio: "ignore", timeout: 10_000 })
      const handle = yield* spawnInstance(ctx, {
        command: engine,
        args: containerRunArgs(unit, ctx.instance, deployment, ctx.port),
        cwd: undefined,
        env: childEnvironment(ctx, {}, true),
      })
      return {
        ...handle,
        stop: (stop) =>
          Effect.ensuring(
            handle.stop(stop),
            Effect.sync(
              () => void spawnSync(engine, ["rm", "-f", name], { stdio: "ignore", timeout: 10_000 }),
            ),
          ),
      }
    }),
}
