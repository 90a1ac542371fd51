// Containers through the docker/podman CLI: SAM builds the `run` command from
// deployment.image/ports/volumes and supervises the foreground CLI process like any other
// process (the CLI proxies signals to the container). The engine is deployment.engine, else the
// first of docker/podman found on PATH; with neither, starting fails with a clear error.
import { spawnSync } from "node:child_process"
import { Effect } from "effect"
import { engineProblem, findContainerEngine } from "../os/containerEngine.ts"
import type { ContainerDeployment } from "../unitSpec.ts"
import { type Driver, DriverError } from "./driver.ts"
import { childEnvironment, spawnInstance } from "./processDriver.ts"

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
