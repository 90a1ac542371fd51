// Runs any executable as the leader of its own process group, captures stdout/stderr line by
// line, and stops it with the configured signal, then SIGKILL for the whole group after the
// grace period. Group members that outlive their leader are killed too (no orphans).
import { type ChildProcess, spawn } from "node:child_process"
import { statSync } from "node:fs"
import { Deferred, Effect } from "effect"
import { LineSplitter } from "../output/lineSplitter.ts"
import { groupAlive, groupStopped, signalGroup } from "../processGroup.ts"
import type { StopSpec } from "../unitSpec.ts"
import { type Driver, type DriverContext, DriverError, type ExitInfo, type InstanceHandle } from "./driver.ts"

/** Variables of SAM's own that must never reach a child. */
const privateVariables = ["SAM_VAULT_KEY", "SAM_TOKEN"]

export interface SpawnRequest {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string | undefined
  readonly env: Readonly<Record<string, string>>
  /** Run the child as this user and group (SAM must be root). */
  readonly uid?: number
  readonly gid?: number
  /** Open a Node IPC channel (advanced serialization) to the child: agent runtimes. */
  readonly ipc?: boolean
  /** Sees the child as soon as it exists, before any of its output or messages. */
  readonly onSpawn?: (child: ChildProcess) => void
}

export const childEnvironment = (
  ctx: DriverContext,
  own: Readonly<Record<string, string>>,
  inherit: boolean,
): Record<string, string> => {
  const base: Record<string, string> = {}
  if (inherit) {
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !privateVariables.includes(k) && !k.startsWith("SAM__")) base[k] = v
    }
  } else if (process.env.PATH) {
    base.PATH = process.env.PATH
  }
  return {
    ...base,
    ...dependencyVariables(ctx.dependencyUrls),
    ...own,
    ...(ctx.port === undefined ? {} : { PORT: String(ctx.port) }),
    SAM_UNIT_ID: ctx.spec.id,
    SAM_INSTANCE: String(ctx.instance),
  }
}

/** `notes-store` → `SAM_NOTES_STORE_URL`. */
export const dependencyVariable = (id: string): string =>
  `SAM_${id.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_URL`

export const dependencyVariables = (urls: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(urls).map(([id, url]) => [dependencyVariable(id), url]))

const pollMs = 15

/** Wait until no live member of the group is left, at most `ms`. */
const waitGroupGone = (pgid: number, ms: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + ms
    while (groupAlive(pgid) && Date.now() < deadline) yield* Effect.sleep(pollMs)
    return !groupAlive(pgid)
  })

/** Spawn `request` in its own group and wrap it as an InstanceHandle owned by the current Scope. */
export const spawnInstance = (ctx: DriverContext, request: SpawnRequest) =>
  Effect.gen(function* () {
    const unit = ctx.spec.id
    const child = yield* Effect.callback<ChildProcess, DriverError>((resume) => {
      let child: ChildProcess
      try {
        child = spawn(request.command, [...request.args], {
          cwd: request.cwd,
          env: request.env,
          detached: true,
          ...(request.uid === undefined ? {} : { uid: request.uid }),
          ...(request.gid === undefined ? {} : { gid: request.gid }),
          stdio: request.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
          ...(request.ipc ? { serialization: "advanced" as const } : {}),
        })
      } catch (error) {
        resume(Effect.fail(new DriverError({ unit, message: spawnMessage(request, error) })))
        return
      }
      request.onSpawn?.(child)
      const onError = (error: Error) =>
        resume(Effect.fail(new DriverError({ unit, message: spawnMessage(request, error) })))
      child.once("error", onError)
      child.once("spawn", () => {
        child.off("error", onError)
        resume(Effect.succeed(child))
      })
    })
    const pid = child.pid as number
    const exit = yield* Deferred.make<ExitInfo>()
    child.on("error", () => {}) // later errors (e.g. kill of a dead pid) are reported through exit
    for (const [stream, source] of [
      ["stdout", child.stdout],
      ["stderr", child.stderr],
    ] as const) {
      if (!source) continue
      // Bounded: a line is never held past maxLineBytes, however long the child makes it.
      const lines = new LineSplitter(ctx.maxLineBytes, (line) => ctx.log(stream, line))
      source.on("data", (chunk: Buffer) => lines.push(chunk))
      source.once("end", () => lines.end())
    }
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()))
    child.once("exit", (code, signal) => {
      // The leader is gone; anything left in its group is an orphan-to-be: kill it. The exit is
      // reported once nothing of the instance is left and its output is fully read (a restart
      // must not overlap it). A pipe held by a process that escaped the group is cut after 2 s.
      signalGroup(pid, "SIGKILL")
      const cut = setTimeout(() => {
        child.stdout?.destroy()
        child.stderr?.destroy()
      }, 2_000)
      Effect.runFork(
        waitGroupGone(pid, 5_000).pipe(
          Effect.andThen(Effect.promise(() => closed)),
          Effect.andThen(Effect.sync(() => clearTimeout(cut))),
          Effect.andThen(Deferred.succeed(exit, { code, signal })),
        ),
      )
    })

    const stop = (spec: StopSpec) =>
      Effect.gen(function* () {
        if (!(yield* Deferred.isDone(exit)) || groupAlive(pid)) {
          signalGroup(pid, spec.signal)
          signalGroup(pid, "SIGCONT") // a suspended group cannot act on the signal otherwise
          const gone = yield* waitGroupGone(pid, spec.graceMs)
          if (!gone) {
            signalGroup(pid, "SIGKILL")
            yield* waitGroupGone(pid, 5_000)
          }
        }
        return yield* Deferred.await(exit)
      })

    // Last resort when the scope closes without a graceful stop (interrupt, SAM crash path).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        if (groupAlive(pid)) {
          signalGroup(pid, "SIGKILL")
          yield* waitGroupGone(pid, 5_000)
        }
      }),
    )

    const handle: InstanceHandle = {
      pid,
      port: ctx.port,
      url: ctx.port === undefined ? undefined : `http://127.0.0.1:${ctx.port}`,
      exited: Deferred.await(exit),
      stop,
      suspend: Effect.gen(function* () {
        signalGroup(pid, "SIGSTOP")
        const deadline = Date.now() + 2_000
        while (!groupStopped(pid) && Date.now() < deadline) yield* Effect.sleep(5)
      }),
      resume: Effect.sync(() => void signalGroup(pid, "SIGCONT")),
    }
    return handle
  })

const spawnMessage = (request: SpawnRequest, error: unknown): string => {
  const code = (error as NodeJS.ErrnoException)?.code
  if (code === "ENOENT") {
    return request.cwd && !isDirectory(request.cwd)
      ? `working directory "${request.cwd}" does not exist`
      : `command not found: "${request.command}" (check deployment.command and PATH)`
  }
  if (code === "EACCES") return `permission denied running "${request.command}" (is it executable?)`
  return `could not start "${request.command}": ${error instanceof Error ? error.message : String(error)}`
}

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

export const processDriver: Driver = {
  name: "process",
  start: (ctx) =>
    Effect.gen(function* () {
      const deployment = ctx.spec.process
      if (!deployment) {
        return yield* new DriverError({
          unit: ctx.spec.id,
          message: "process runtime needs deployment.command",
        })
      }
      return yield* spawnInstance(ctx, {
        command: deployment.command,
        args: deployment.args,
        cwd: deployment.cwd,
        env: childEnvironment(ctx, deployment.env, deployment.inheritEnv),
      })
    }),
}
