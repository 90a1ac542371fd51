// Run-time placeholders in a process's command, args and environment: `${sam.port}` (the
// instance's port), `${sam.instance}`, `${sam.unit}` and `${sam.url.<dependency>}` (its base URL),
// filled in at each spawn by the process driver. They live beside `${env.X}`/`${vault.x}` (resolved
// at load) without colliding: crossChecks.ts rejects unknown names and URLs of non-dependencies.

export interface PlaceholderValues {
  readonly unit: string
  readonly instance: number
  readonly port: number | undefined
  /** Base URLs of the unit's ready dependencies, by id. */
  readonly urls: Readonly<Record<string, string>>
}

const PLACEHOLDER = /\$\{sam\.([^}]+)\}/g

/** The placeholder names config checks accept for a unit that depends on `dependsOn`. */
export const placeholderProblem = (name: string, dependsOn: ReadonlyArray<string>): string | undefined => {
  if (name === "port" || name === "instance" || name === "unit") return undefined
  if (name.startsWith("url.")) {
    const dep = name.slice("url.".length)
    return dependsOn.includes(dep) ? undefined : `\${sam.${name}} names "${dep}", which is not in depends_on`
  }
  return `unknown placeholder \${sam.${name}}: use \${sam.port}, \${sam.instance}, \${sam.unit} or \${sam.url.<dependency>}`
}

/** `text` with every placeholder filled in (an unset port or a dependency with no URL yet: empty). */
export const expandPlaceholders = (text: string, values: PlaceholderValues): string =>
  text.includes("${sam.")
    ? text.replace(PLACEHOLDER, (_, name: string) => {
        if (name === "port") return values.port === undefined ? "" : String(values.port)
        if (name === "instance") return String(values.instance)
        if (name === "unit") return values.unit
        if (name.startsWith("url.")) return values.urls[name.slice("url.".length)] ?? ""
        return ""
      })
    : text
