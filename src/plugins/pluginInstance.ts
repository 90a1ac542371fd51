// One loaded version of a plugin: its Effect Scope (which owns every registration, timer,
// subscription and socket it made), the registrations it staged during setup, and the calls in
// flight on it. The host makes an instance live (registrations applied to SAM's registries) or
// dark (withdrawn) synchronously, which is what makes a version swap atomic; closing the scope
// releases everything.
import { Effect, Exit, Scope } from "effect"
import { isAsyncIterable } from "../runtime/capabilities/capability.ts"
import { pluginError } from "./errors.ts"
import type { CompiledRoute } from "./routeTable.ts"
import type { PluginDefinition, PluginRouteHandler } from "./types.ts"

/** Something a plugin registers: applied to SAM when the instance is live, undone when not. */
export interface Registration {
  /** Why it cannot be applied now (a name held by another plugin), checked before going live. */
  readonly check?: () => string | undefined
  /** Apply; returns the undo. Must be synchronous. */
  readonly activate: () => () => void
}

interface Slot {
  readonly registration: Registration
  undo: (() => void) | undefined
}

export class PluginInstance {
  readonly definition: PluginDefinition
  readonly config: unknown
  readonly scope: Scope.Closeable = Scope.makeUnsafe()
  readonly controller = new AbortController()
  private routeTable: ReadonlyArray<CompiledRoute<PluginRouteHandler>> = []

  private readonly slots = new Set<Slot>()
  private live = false
  private closing: Promise<void> | undefined
  private inFlight = 0
  private idleWaiters: Array<() => void> = []

  constructor(definition: PluginDefinition, config: unknown) {
    this.definition = definition
    this.config = config
  }

  get name(): string {
    return this.definition.name
  }

  get version(): string {
    return this.definition.version
  }

  get isLive(): boolean {
    return this.live
  }

  get isClosed(): boolean {
    return this.closing !== undefined
  }

  get pending(): number {
    return this.inFlight
  }

  /**
   * Its control-API routes, in registration order: an immutable table, replaced whole when a
   * route is added or withdrawn, so a request matches against one consistent table.
   */
  get routes(): ReadonlyArray<CompiledRoute<PluginRouteHandler>> {
    return this.routeTable
  }

  /** Serve `route` (while this instance is live); returns the undo. */
  addRoute(route: CompiledRoute<PluginRouteHandler>): () => void {
    this.routeTable = [...this.routeTable, route]
    return () => {
      this.routeTable = this.routeTable.filter((r) => r !== route)
    }
  }

  /** Stage `registration` (applied now if live); the scope undoes it on close. */
  register(registration: Registration): () => void {
    this.assertOpen()
    const conflict = registration.check?.()
    if (conflict !== undefined) throw pluginError("PLUGIN_CONFLICT", this.name, conflict)
    const slot: Slot = { registration, undo: undefined }
    this.slots.add(slot)
    if (this.live) slot.undo = registration.activate()
    const remove = () => {
      if (!this.slots.delete(slot)) return
      slot.undo?.()
      slot.undo = undefined
    }
    this.addFinalizer(Effect.sync(remove))
    return remove
  }

  /** Run `finalizer` when the scope closes. */
  addFinalizer(finalizer: Effect.Effect<unknown>): void {
    this.assertOpen()
    Effect.runSync(Scope.addFinalizer(this.scope, finalizer))
  }

  /** Conflicts that would stop this instance from going live now. */
  conflicts(): ReadonlyArray<string> {
    return [...this.slots].flatMap((s) => s.registration.check?.() ?? [])
  }

  /** Apply every staged registration (synchronously). */
  goLive(): void {
    if (this.live || this.isClosed) return
    this.live = true
    for (const slot of this.slots) slot.undo = slot.registration.activate()
  }

  /** Withdraw every registration (synchronously); calls in flight continue. */
  goDark(): void {
    if (!this.live) return
    this.live = false
    for (const slot of this.slots) {
      slot.undo?.()
      slot.undo = undefined
    }
  }

  /** Count a call as in flight until the returned function is called (once). */
  enter(): () => void {
    this.inFlight++
    let left = false
    return () => {
      if (left) return
      left = true
      this.settle()
    }
  }

  /**
   * Count a call as in flight until it settles. A promise settles when it does; an async
   * iterable (a streamed capability result) when the consumer finishes or stops reading.
   */
  track<A>(call: () => A): A {
    this.inFlight++
    let result: A
    try {
      result = call()
    } catch (error) {
      this.settle()
      throw error
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => this.trackStream(value),
        (error) => {
          this.settle()
          throw error
        },
      ) as A
    }
    return this.trackStream(result)
  }

  private trackStream<A>(value: A): A {
    if (!isAsyncIterable(value)) {
      this.settle()
      return value
    }
    const settle = () => this.settle()
    return (async function* () {
      try {
        yield* value
      } finally {
        settle()
      }
    })() as A
  }

  private settle(): void {
    this.inFlight--
    if (this.inFlight === 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const wake of waiters) wake()
    }
  }

  /** Resolves true when no call is in flight, false if `timeoutMs` passes first. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== wake)
        resolve(false)
      }, timeoutMs)
      const wake = () => {
        clearTimeout(timer)
        resolve(true)
      }
      this.idleWaiters.push(wake)
    })
  }

  /** Withdraw, abort `ctx.signal` and close the scope (finalizers run last-registered first). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.goDark()
      this.controller.abort(new Error(`plugin "${this.name}" ${this.version} was unloaded`))
      await Effect.runPromise(Scope.close(this.scope, Exit.void))
    })()
    return this.closing
  }

  private assertOpen(): void {
    if (this.isClosed)
      throw pluginError(
        "PLUGIN_CLOSED",
        this.name,
        `plugin "${this.name}" ${this.version} is unloaded; it can no longer register anything`,
      )
  }
}
