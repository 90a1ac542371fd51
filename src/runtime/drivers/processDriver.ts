// Runs any executable in the instance's containment cell (or as the leader of its own process
// group without containment), captures stdout/stderr line by line (bounded), and stops it with
// the configured signal, then SIGKILL for the whole tree after the grace period. What outlives
// the leader is killed too: no orphans, setsid and double forks included where a cell holds them.
import { type ChildProcess, spawn } from "node:child_process"
import { statSync } from "node:fs"
import { Deferred, Effect } from "effect"
import { expandPlaceholders } from "../../config/placeholders.ts"
import { type Cell, findExecutable } from "../containment/index.ts"
import { LineSplitter } from "../output/lineSplitter.ts"
import type { StopSpec } from "../unitSpec.ts"
import { type Driver, type DriverContext, DriverError, type ExitInfo, type InstanceHandle } from "./driver.ts"
import { cellTree, groupTree, type ProcessTree, treeStopped } from "./processTree.ts"

/** Variables of SAM's own that must never reach a child. */
const privateVariables = ["SAM_VAULT_KEY", "SAM_TOKEN"]

/**
 * Values no child inherits from SAM's environment, whatever their name (API tokens) and also
 * inside a longer value (`Bearer <token>`), with a count per registration.
 */
const withheldValues = new Map<string, number>()

const holdsWithheld = (value: string): boolean => {
  for (const withheld of withheldValues.keys()) if (value.includes(withheld)) return true
  return false
}

/**
 * Never pass these values of SAM's environment on to a child, under any variable name: createSam
 * registers the configured API tokens (`${env.SAM_ADMIN_TOKEN}` leaves the token in SAM's own
 * environment). Returns the function that forgets them again.
 */
export const withholdFromChildren = (values: Iterable<string>): (() => void) => {
  const registered = [...new Set(values)].filter((value) => value !== "")
  for (const value of registered) withheldValues.set(value, (withheldValues.get(value) ?? 0) + 1)
  return () => {
    for (const value of registered) {
      const count = (withheldValues.get(value) ?? 1) - 1
      if (count === 0) withheldValues.delete(value)
      else withheldValues.set(value, count)
    }
  }
}

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
      if (v !== undefined && !privateVariables.includes(k) && !k.startsWith("SAM__") && !holdsWithheld(v))
        base[k] = v
    }
  } else if (process.env.PATH) {
    base.PATH = process.env.PATH
  }
  return {
    ...base,
    ...samVariables(ctx),
    ...own,
    ...(ctx.port === undefined ? {} : { PORT: String(ctx.port) }),
    SAM_UNIT_ID: ctx.spec.id,
    SAM_INSTANCE: String(ctx.instance),
  }
}

/** What SAM tells every unit: its dependencies' URLs and SAM's own variables (SAM_GATEWAY_TOKEN). */
export const samVariables = (ctx: DriverContext): Record<string, string> => ({
  ...dependencyVariables(ctx.dependencyUrls),
  ...ctx.variables,
})

/** `notes-store` → `SAM_NOTES_STORE_URL`. */
export const dependencyVariable = (id: string): string =>
  `SAM_${id.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_URL`

export const dependencyVariables = (urls: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(urls).map(([id, url]) => [dependencyVariable(id), url]))

const pollMs = 15

/** Wait until nothing of the tree is left alive, at most `ms`. */
const waitGone = (tree: ProcessTree, ms: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + ms
    while (tree.alive() && Date.now() < deadline) yield* Effect.sleep(pollMs)
    return !tree.alive()
  })

/** What to spawn: the request itself, or (with a cell) the wrapper that joins the cell first. */
const launchOf = (cell: Cell | undefined, request: SpawnRequest) => {
  if (!cell)
    return {
      command: request.command,
      args: [...request.args],
      env: request.env,
      uid: request.uid,
      gid: request.gid,
    }
  const wrapped = cell.wrap(request.command, request.args, {
    ...(request.uid === undefined ? {} : { uid: request.uid }),
    ...(request.gid === undefined ? {} : { gid: request.gid }),
  })
  // The cell's markers last: nothing the unit sets may hide it from SAM.
  return {
    command: wrapped.command,
    args: wrapped.args,
    env: { ...request.env, ...cell.env },
    uid: wrapped.uid,
    gid: wrapped.gid,
  }
}

/** Spawn `request` (in the instance's cell) and wrap it as an InstanceHandle owned by the current Scope. */
export const spawnInstance = (ctx: DriverContext, request: SpawnRequest) =>
  Effect.gen(function* () {
    const unit = ctx.spec.id
    const cell = ctx.containment?.cell(`${unit}#${ctx.instance}`)
    // The wrapper always finds /bin/sh: look the unit's own command up first, for a clear error.
    if (cell && !findExecutable(request.command, request.env.PATH ?? "", request.cwd ?? process.cwd())) {
      cell.release()
      const enoent = Object.assign(new Error(`spawn ${request.command} ENOENT`), { code: "ENOENT" })
      return yield* new DriverError({ unit, message: spawnMessage(request, enoent) })
    }
    const launch = launchOf(cell, request)
    const child = yield* Effect.callback<ChildProcess, DriverError>((resume) => {
      let child: ChildProcess
      try {
        child = spawn(launch.command, launch.args, {
          cwd: request.cwd,
          env: launch.env,
          detached: true,
          ...(launch.uid === undefined ? {} : { uid: launch.uid }),
          ...(launch.gid === undefined ? {} : { gid: launch.gid }),
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
    }).pipe(Effect.tapError(() => Effect.sync(() => cell?.release())))
    const pid = child.pid as number
    cell?.adopt(pid)
    const tree = cell ? cellTree(cell) : groupTree(pid)
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
      // The leader is gone; anything left of its tree is an orphan-to-be: kill it. The exit is
      // reported once nothing of the instance is left and its output is fully read (a restart
      // must not overlap it). A pipe held by a process that escaped the tree is cut after 2 s.
      tree.kill()
      const cut = setTimeout(() => {
        child.stdout?.destroy()
        child.stderr?.destroy()
      }, 2_000)
      Effect.runFork(
        waitGone(tree, 5_000).pipe(
          Effect.andThen(Effect.promise(() => closed)),
          Effect.andThen(Effect.sync(() => clearTimeout(cut))),
          Effect.andThen(Deferred.succeed(exit, { code, signal })),
        ),
      )
    })

    const stop = (spec: StopSpec) =>
      Effect.gen(function* () {
        if (!(yield* Deferred.isDone(exit)) || tree.alive()) {
          if (spec.signal === "SIGKILL") tree.kill()
          else {
            tree.signal(spec.signal)
            tree.signal("SIGCONT") // a suspended tree cannot act on the signal otherwise
          }
          const gone = yield* waitGone(tree, spec.graceMs)
          if (!gone) {
            tree.kill()
            yield* waitGone(tree, 5_000)
          }
        }
        return yield* Deferred.await(exit)
      })

    // Last resort when the scope closes without a graceful stop (interrupt, SAM crash path); then
    // the cell's cgroup directories go (retried: a dying task holds them for a moment).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        if (tree.alive()) {
          tree.kill()
          yield* waitGone(tree, 5_000)
        }
        for (let attempt = 0; attempt < 50 && !tree.release(); attempt++) yield* Effect.sleep(20)
      }),
    )

    const handle: InstanceHandle & Pick<Required<InstanceHandle>, "exited"> = {
      pid,
      port: ctx.port,
      url: ctx.port === undefined ? undefined : `http://127.0.0.1:${ctx.port}`,
      exited: Deferred.await(exit),
      stop,
      suspend: Effect.gen(function* () {
        tree.signal("SIGSTOP")
        const deadline = Date.now() + 2_000
        while (!treeStopped(tree) && Date.now() < deadline) yield* Effect.sleep(5)
      }),
      resume: Effect.sync(() => tree.signal("SIGCONT")),
      usage: () => tree.usage(),
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
      const values = { unit: ctx.spec.id, instance: ctx.instance, port: ctx.port, urls: ctx.dependencyUrls }
      const expand = (text: string) => expandPlaceholders(text, values)
      return yield* spawnInstance(ctx, {
        command: expand(deployment.command),
        args: deployment.args.map(expand),
        cwd: deployment.cwd,
        env: childEnvironment(
          ctx,
          Object.fromEntries(Object.entries(deployment.env).map(([k, v]) => [k, expand(v)])),
          deployment.inheritEnv,
        ),
      })
    }),
}
