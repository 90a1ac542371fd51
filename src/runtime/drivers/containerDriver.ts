// Containers through the docker/podman CLI: SAM builds the `run` command from
// deployment.image/ports/volumes and supervises the foreground CLI process like any other
// process (the CLI proxies signals to the container). The engine is deployment.engine, else the
// first of docker/podman found on PATH; with neither, starting fails with a clear error.
import { spawnSync } from "node:child_process"
import { Effect } from "effect"
import { engineProblem, findContainerEngine } from "../os/containerEngine.ts"
import type { ContainerDeployment } from "../unitSpec.ts"
import { type Driver, DriverError } from "./driver.ts"
import { childEnvironment, samVariables, spawnInstance } from "./processDriver.ts"

/** The container's name: stable per unit instance so a leftover can be removed by name. */
export const containerName = (unit: string, instance: number): string => `sam-${unit}-${instance}`

/**
 * The engine CLI arguments for `run`; pure, so it is tested directly. Variables go by name only
 * (`-e NAME`: the engine copies the value from its own environment, see containerEnvironment), so
 * no value — a vault secret, the unit's SAM_GATEWAY_TOKEN — is ever visible in `ps`.
 */
export const containerRunArgs = (
  unit: string,
  instance: number,
  deployment: ContainerDeployment,
  variables: ReadonlyArray<string>,
): ReadonlyArray<string> => [
  "run",
  "--rm",
  "--name",
  containerName(unit, instance),
  ...deployment.ports.flatMap((p) => ["-p", p]),
  ...deployment.volumes.flatMap((v) => ["-v", v]),
  ...variables.flatMap((name) => ["-e", name]),
  deployment.image,
  ...deployment.args,
]

/**
 * What the container sees: its deployment.env, then what SAM tells every unit (SAM_<DEP>_URL,
 * SAM_GATEWAY_TOKEN, SAM_UNIT_ID, SAM_INSTANCE) and PORT. The engine process gets these on top
 * of SAM's environment; only these names are passed into the container.
 */
export const containerVariables = (
  deployment: ContainerDeployment,
  sam: Readonly<Record<string, string>>,
  port: number | undefined,
): Record<string, string> => ({
  ...deployment.env,
  ...sam,
  ...(port === undefined ? {} : { PORT: String(port) }),
})

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
      const variables = containerVariables(
        deployment,
        { ...samVariables(ctx), SAM_UNIT_ID: unit, SAM_INSTANCE: String(ctx.instance) },
        ctx.port,
      )
      const handle = yield* spawnInstance(ctx, {
        command: engine,
        args: containerRunArgs(unit, ctx.instance, deployment, Object.keys(variables)),
        cwd: undefined,
        env: { ...childEnvironment(ctx, {}, true), ...variables },
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
