// The order plugins are set up in: dependencies first (declared `dependsOn`), otherwise the
// order they were listed in. Pure; plugins that cannot be ordered come back with the reason.
import { didYouMean } from "../config/suggest.ts"

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
  const byName = new Map(plugins.map((p) => [p.name, p]))
  const names = [...byName.keys()]
  const blocked = new Map<string, string>()
  for (const p of plugins) {
    const missing = p.dependsOn.filter((d) => !byName.has(d))
    if (missing.length > 0) {
      const hints = missing.map((m) => {
        const hint = didYouMean(m, names)
        return hint ? `"${m}" (did you mean "${hint}"?)` : `"${m}"`
      })
      blocked.set(p.name, `depends on ${hints.join(", ")}, which is not configured or not found`)
    }
  }
  const order: string[] = []
  const state = new Map<string, "visiting" | "done">()
  const visit = (name: string, path: ReadonlyArray<string>): boolean => {
    if (state.get(name) === "done") return !blocked.has(name)
    if (state.get(name) === "visiting") {
      const cycle = [...path.slice(path.indexOf(name)), name]
      for (const member of cycle) blocked.set(member, `dependency cycle: ${cycle.join(" → ")}`)
      return false
    }
    state.set(name, "visiting")
    const plugin = byName.get(name) as OrderInput
    let ok = !blocked.has(name)
    for (const dep of plugin.dependsOn) {
      if (!byName.has(dep)) continue
      if (!visit(dep, [...path, name])) {
        ok = false
        if (!blocked.has(name))
          blocked.set(name, `depends on "${dep}", which cannot be loaded: ${blocked.get(dep)}`)
      }
    }
    state.set(name, "done")
    if (ok && !blocked.has(name)) order.push(name)
    return ok && !blocked.has(name)
  }
  for (const name of names) visit(name, [])
  return { order, blocked }
}
