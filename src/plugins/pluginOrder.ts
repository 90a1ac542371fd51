// The order plugins are set up in: dependencies first (declared `dependsOn`), otherwise the
// order they were listed in (src/graph/dependencyGraph.ts); plugins that cannot be ordered come
// back with the reason in words, for their status. Pure.
import { didYouMean } from "../config/suggest.ts"
import { type Blocked, orderDependencies } from "../graph/dependencyGraph.ts"

export interface OrderInput {
  readonly name: string
  readonly dependsOn: ReadonlyArray<string>
}

export interface PluginOrder {
  readonly order: ReadonlyArray<string>
  /** Plugins left out, with why (a missing dependency or a cycle). */
  readonly blocked: ReadonlyMap<string, string>
}

export const orderPlugins = (plugins: ReadonlyArray<OrderInput>): PluginOrder => {
  const names = plugins.map((p) => p.name)
  const { order, blocked } = orderDependencies(plugins.map((p) => ({ id: p.name, dependsOn: p.dependsOn })))
  const why = (reason: Blocked): string => {
    switch (reason._tag) {
      case "Missing": {
        const hints = reason.missing.map((m) => {
          const hint = didYouMean(m, names)
          return hint ? `"${m}" (did you mean "${hint}"?)` : `"${m}"`
        })
        return `depends on ${hints.join(", ")}, which is not configured or not found`
      }
      case "Cycle":
        return reason.cycle.message
      case "BlockedBy": {
        const next = blocked.get(reason.dependency)
        return `depends on "${reason.dependency}", which cannot be loaded: ${next ? why(next) : "it is blocked"}`
      }
    }
  }
  return { order, blocked: new Map([...blocked].map(([name, reason]) => [name, why(reason)])) }
}
