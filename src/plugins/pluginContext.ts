// Builds the `ctx` a plugin's setup receives. Every method stages a Registration on the
// plugin's instance (so nothing reaches SAM before the version goes live) and wraps the
// plugin's callbacks: calls are counted in flight, and a throwing hook fails the plugin
// instead of SAM.

import { Effect } from "effect"
import { suggestionSuffix } from "../config/suggest.ts"
import type { EventBus, SamEventBody } from "../runtime/eventBus.ts"
import type { ProbeRegistry } from "../runtime/health/probe.ts"
import type { Sam } from "../runtime/sam.ts"
import type { Diagnostics } from "./diagnostics.ts"
import { describe, pluginError } from "./errors.ts"
import {
  type GatewayMiddleware,
  type GatewayRegistry,
  type GatewayResponse,
  normalizePrefix,
} from "./gatewayRegistry.ts"
import type { PluginInstance } from "./pluginInstance.ts"
import { compileRoute } from "./routeTable.ts"
import { makeScopedFetch, type ScopedFetch } from "./scopedFetch.ts"
import type { HttpMethod, PluginContext, PluginLogger, PluginRouteHandler, Unregister } from "./types.ts"

/** What a plugin context reaches in SAM. */
export interface PluginEnvironment {
  readonly sam: Pick<Sam, "bus" | "capabilities" | "probes" | "status" | "invoke">
  readonly gateway: GatewayRegistry
  readonly diagnostics: Diagnostics
  /** Health check kinds added by plugins: kind → plugin name. */
  readonly probeOwners: Map<string, string>
  /**
   * Capabilities plugins registered (in any version, live or not): capability → plugin names,
   * so a call while a plugin is down is told which one and why.
   */
  readonly capabilityOwners: Map<string, Set<string>>
  /** A hook (listener, sink, middleware, timer) of `instance` threw. */
  readonly onHookFailure: (instance: PluginInstance, where: string, error: unknown) => void
  /** How long a cleanup may take before SAM stops waiting for it. */
  readonly cleanupTimeoutMs: number
}

const probeOwner = (probes: ProbeRegistry, owners: Map<string, string>, kind: string): string | undefined =>
  owners.get(kind) ?? (probes.get(kind) === undefined ? undefined : "SAM (built in)")

const makeLogger = (bus: EventBus, plugin: string): PluginLogger => {
  const log =
    (level: "debug" | "info" | "warn" | "error") =>
    (message: string, fields?: Record<string, unknown>): void => {
      bus.publish(
        { type: "plugin.log", plugin, level, message, ...(fields === undefined ? {} : { fields }) },
        { keep: level !== "debug" },
      )
    }
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") }
}

/**
 * A `unit:<id>` target SAM runs no service of is kept (a reload may add the service), but said at
 * once, not only by each request's 502.
 */
const warnUnknownUnit = (
  route: { readonly prefix: string; readonly target?: string },
  sam: Pick<Sam, "status">,
  warn: (warning: string) => void,
): void => {
  if (!route.target?.startsWith("unit:")) return
  const unit = route.target.slice(5)
  const services = sam
    .status()
    .units.filter((u) => u.kind === "service")
    .map((u) => u.id)
  if (services.includes(unit)) return
  warn(
    `gateway route ${route.prefix} targets "${unit}", which is no service${suggestionSuffix(unit, services)}: its requests are answered 502 until one is configured`,
  )
}

export const createPluginContext = (instance: PluginInstance, env: PluginEnvironment): PluginContext => {
  const { sam } = env
  const name = instance.name
  const providerId = `plugin:${name}`

  /** Run a plugin callback SAM calls on its own initiative; a throw or rejection fails the plugin. */
  const hook =
    <Args extends unknown[]>(where: string, callback: (...args: Args) => unknown) =>
    (...args: Args): void => {
      try {
        const result = instance.track(() => callback(...args))
        if (result instanceof Promise)
          result.catch((error: unknown) => env.onHookFailure(instance, where, error))
      } catch (error) {
        env.onHookFailure(instance, where, error)
      }
    }

  const hookWithResult = <Args extends unknown[], R>(
    where: string,
    callback: (...args: Args) => R | Promise<R>,
    onError: R,
  ): ((...args: Args) => Promise<R>) => {
    return async (...args: Args) => {
      try {
        return await instance.track(() => callback(...args))
      } catch (error) {
        env.onHookFailure(instance, where, error)
        return onError
      }
    }
  }

  const apiRoute = (method: HttpMethod, path: string, handler: PluginRouteHandler): Unregister => {
    const route = compileRoute(method, path, handler)
    return instance.register({ activate: () => instance.addRoute(route) })
  }

  const timer = (kind: "interval" | "timeout", callback: () => unknown, ms: number): Unregister => {
    const run = hook(`timer (${kind} ${ms} ms)`, callback)
    const handle = kind === "interval" ? setInterval(run, ms) : setTimeout(run, ms)
    const clear = () => (kind === "interval" ? clearInterval(handle) : clearTimeout(handle))
    instance.addFinalizer(Effect.sync(clear))
    return clear
  }

  // Closed by the first finalizer, so it runs last: cleanups may still send (a final flush).
  let scopedFetch: ScopedFetch | undefined
  let fetchClosed = false
  instance.addFinalizer(
    Effect.sync(() => {
      fetchClosed = true
      scopedFetch?.close()
    }),
  )

  const failClosed: GatewayResponse = {
    status: 502,
    headers: { "content-type": "text/plain" },
    body: `gateway middleware of plugin "${name}" failed`,
  }

  const context: PluginContext = {
    name,
    version: instance.version,
    config: instance.config,
    log: makeLogger(sam.bus, name),
    signal: instance.controller.signal,
    scope: instance.scope,

    capabilities: {
      register: (capability, handler, options = {}) => {
        const owners = env.capabilityOwners.get(capability) ?? new Set()
        env.capabilityOwners.set(capability, owners.add(name))
        return instance.register({
          activate: () =>
            sam.capabilities.register(capability, {
              id: providerId,
              invoke: (input, call) => instance.track(() => handler(input, call)),
              ...(options.available === undefined ? {} : { available: options.available }),
              ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
            }),
        })
      },
    },

    healthChecks: {
      register: (kind, check) =>
        instance.register({
          check: () => {
            const owner = probeOwner(sam.probes, env.probeOwners, kind)
            return owner === undefined || owner === name
              ? undefined
              : `health check kind "${kind}" is already provided by ${owner === "SAM (built in)" ? owner : `plugin "${owner}"`}; choose another name`
          },
          activate: () => {
            const off = sam.probes.register(kind, (spec, target, signal) =>
              instance.track(() => check(spec, target, signal)),
            )
            env.probeOwners.set(kind, name)
            return () => {
              off()
              if (sam.probes.get(kind) === undefined) env.probeOwners.delete(kind)
            }
          },
        }),
    },

    gateway: {
      route: (route) =>
        instance.register({
          check: () => {
            const prefix = normalizePrefix(route.prefix)
            const held = env.gateway.list().find((r) => r.prefix === prefix && r.owner !== name)
            return held
              ? `gateway route "${prefix}" is already registered by plugin "${held.owner}"`
              : undefined
          },
          activate: () => {
            const { handler } = route
            warnUnknownUnit(route, sam, (warning) =>
              sam.bus.publish({ type: "plugin.warning", plugin: name, warning }),
            )
            return env.gateway.addRoute(
              name,
              handler === undefined
                ? route
                : { ...route, handler: (req, res) => instance.track(() => handler(req, res)) },
            )
          },
        }),
      middleware: (hooks) =>
        instance.register({
          activate: () => {
            const { onRequest, onResponse } = hooks
            const wrapped: GatewayMiddleware = {
              ...(hooks.priority === undefined ? {} : { priority: hooks.priority }),
              ...(onRequest === undefined
                ? {}
                : { onRequest: hookWithResult("gateway onRequest", onRequest, failClosed) }),
              ...(onResponse === undefined
                ? {}
                : { onResponse: hookWithResult("gateway onResponse", onResponse, undefined) }),
            }
            return env.gateway.addMiddleware(name, wrapped)
          },
        }),
    },

    diagnostics: {
      metrics: (sink) =>
        instance.register({
          activate: () =>
            env.diagnostics.addMetricSink(
              { record: (samples) => instance.track(() => sink.record(samples)) },
              (error) => env.onHookFailure(instance, "metrics sink", error),
            ),
        }),
      logs: (sink) =>
        instance.register({
          activate: () =>
            env.diagnostics.addLogSink(
              { write: (record) => instance.track(() => sink.write(record)) },
              (error) => env.onHookFailure(instance, "log sink", error),
            ),
        }),
      alerts: (sink) =>
        instance.register({
          activate: () =>
            env.diagnostics.addAlertSink(
              { notify: (alert) => instance.track(() => sink.notify(alert)) },
              (error) => env.onHookFailure(instance, "alert sink", error),
            ),
        }),
    },

    api: {
      route: apiRoute,
      get: (path, handler) => apiRoute("GET", path, handler),
      post: (path, handler) => apiRoute("POST", path, handler),
    },

    events: {
      subscribe: (listener) =>
        instance.register({ activate: () => sam.bus.subscribe(hook("event listener", listener)) }),
      publish: (event) => {
        if (typeof event.type !== "string" || !event.type.startsWith(`${name}.`))
          throw pluginError(
            "PLUGIN_INVALID",
            name,
            `plugin "${name}" may only publish events whose type starts with "${name}." (got ${JSON.stringify(event.type)})`,
          )
        sam.bus.publish({ ...event, plugin: name } as SamEventBody)
      },
    },

    timers: {
      setInterval: (callback, ms) => timer("interval", callback, ms),
      setTimeout: (callback, ms) => timer("timeout", callback, ms),
    },

    fetch: (url, init) => {
      if (fetchClosed) return Promise.reject(new Error(`plugin "${name}" is unloaded; its fetch is closed`))
      scopedFetch ??= makeScopedFetch()
      return scopedFetch.fetch(url, init)
    },

    invoke: (capability, input, options) => sam.invoke(capability, input, options),
    status: () => sam.status(),

    onCleanup: (cleanup) => {
      instance.addFinalizer(
        Effect.promise(() =>
          runCleanup(cleanup, env.cleanupTimeoutMs).catch((error: unknown) => {
            sam.bus.publish({
              type: "plugin.cleanup-failed",
              plugin: name,
              version: instance.version,
              error: describe(error),
            })
          }),
        ),
      )
    },
  }
  return context
}

const runCleanup = (cleanup: () => void | Promise<void>, timeoutMs: number): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`cleanup did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    )
    Promise.resolve()
      .then(cleanup)
      .then(
        () => {
          clearTimeout(timer)
          resolve()
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
  })
