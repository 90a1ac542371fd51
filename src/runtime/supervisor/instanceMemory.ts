// What the supervisor remembers of each instance: its port (kept across restarts, reloads and
// scaling, so a dependent's SAM_<ID>_URL keeps answering) and its restart windows, in memory and,
// when SAM has a runtime store, across SAM restarts (SupervisorMemory).
import { Effect } from "effect"
import { freePort, type PortRange, portIsFree, reservePorts } from "../freePort.ts"
import type { SupervisorMemory } from "./contracts.ts"
import { freshWindow, type InstanceWindow } from "./decide.ts"
import type { InstanceRunner } from "./instanceRunner.ts"

export class InstanceMemory {
  private readonly ports = new Map<string, number>()
  private readonly windows = new Map<string, InstanceWindow>()
  private readonly durable: SupervisorMemory | undefined

  private readonly portRange: PortRange | undefined
  /** A kept port was taken meanwhile and the instance was given another (the supervisor says so). */
  private readonly onMoved: ((runner: InstanceRunner, from: number, to: number) => void) | undefined
  /** Which other instance of SAM's holds `port` now, if one does (its name: `fixed2`, `web#1`). */
  private readonly holderOf: ((port: number, runner: InstanceRunner) => string | undefined) | undefined

  constructor(
    durable: SupervisorMemory | undefined,
    portRange?: PortRange,
    onMoved?: (runner: InstanceRunner, from: number, to: number) => void,
    holderOf?: (port: number, runner: InstanceRunner) => string | undefined,
  ) {
    this.durable = durable
    reservePorts(durable?.keptPorts?.() ?? [])
    this.portRange = portRange
    this.onMoved = onMoved
    this.holderOf = holderOf
  }

  private inRange(port: number): boolean {
    return this.portRange === undefined || (port >= this.portRange.from && port <= this.portRange.to)
  }

  /**
   * The instance's port: fixed by config, or the one it had, or a free one (then kept). Fails (the
   * start's failure) when a fixed port is taken, or with PortRangeExhausted when
   * runtime.port_range has no free port.
   */
  portFor(runner: InstanceRunner): Effect.Effect<number | undefined, Error> {
    return Effect.gen({ self: this }, function* () {
      const { spec } = runner
      // Agents talk over IPC (or run inline), never on a port of their own.
      if (spec.runtime === "external" || spec.kind === "agent") return undefined
      const fixed = spec.process?.port
      if (fixed !== undefined) {
        // Taken by something else, the start would fail with EADDRINUSE at best, and at worst the
        // health check would ask that program and call this unit ready (Compose refuses too).
        const port = fixed + runner.index
        if (yield* Effect.promise(() => portIsFree(port))) return port
        const holder = this.holderOf?.(port, runner)
        const by =
          holder === undefined
            ? "another program"
            : `${holder}, another of SAM's units (give one of them another deployment.port)`
        return yield* Effect.fail(
          new Error(
            `port ${port} (deployment.port${runner.index > 0 ? ` + instance ${runner.index}` : ""}) is in use by ${by}; ${runner.key} was not started on it`,
          ),
        )
      }
      if (spec.runtime === "container" && spec.container?.ports.length) return undefined
      const key = `${spec.id}#${runner.index}`
      const known = this.ports.get(key) ?? this.durable?.portOf(spec.id, runner.index)
      // A port kept from before runtime.port_range was set (or moved) is given up for one inside it;
      // so is one something else took while the instance was down: its start would only fail
      // with EADDRINUSE, again and again.
      const keep =
        known !== undefined && this.inRange(known) && (yield* Effect.promise(() => portIsFree(known)))
      if (keep) {
        this.ports.set(key, known)
        return known
      }
      const range = this.portRange
      const port = yield* Effect.tryPromise({
        try: () => freePort(range),
        catch: (error) => (error instanceof Error ? error : new Error(String(error))),
      })
      this.ports.set(key, port)
      this.durable?.setPort(spec.id, runner.index, port)
      if (known !== undefined && this.inRange(known)) this.onMoved?.(runner, known, port)
      return port
    })
  }

  /** The unit left the config: its ports (and desired state) are forgotten. */
  forgetUnit(id: string): void {
    for (const key of [...this.ports.keys()]) if (key.startsWith(`${id}#`)) this.ports.delete(key)
    this.durable?.forget(id)
  }

  windowOf(runner: InstanceRunner): InstanceWindow {
    return this.windows.get(runner.key) ?? this.durable?.windowOf(runner.key) ?? freshWindow
  }

  setWindow(runner: InstanceRunner, window: InstanceWindow): void {
    this.windows.set(runner.key, window)
    this.durable?.setWindow(runner.key, window)
  }

  /** An operator's start or restart, or a config change of the unit, gives it fresh windows. */
  resetWindow(runner: InstanceRunner): void {
    this.setWindow(runner, freshWindow)
  }
}
