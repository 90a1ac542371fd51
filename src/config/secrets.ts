// Secret references in config strings: `${env.NAME}` and `${vault.key}` (`$${` writes a literal `${`).
// Resolution returns the secret values so every surface can mask them (maskText / maskDeep).
// `${sam.port}`, `${sam.url.<dependency>}`... are run-time placeholders, not secrets: they are
// left as written here and filled in when the instance starts (runtime/drivers/placeholders.ts).

import { type ConfigPath, isRecord } from "./configPath.ts"
import { SECRET_NAME } from "./vault.ts"

export type ReferenceKind = "env" | "vault"

export interface Reference {
  readonly path: ConfigPath
  readonly kind: ReferenceKind
  readonly name: string
}

export interface ResolveResult {
  readonly value: unknown
  /** Every value substituted for a reference. */
  readonly secretValues: ReadonlySet<string>
  /** References whose lookup returned undefined (left as written). */
  readonly missing: ReadonlyArray<Reference>
  /** `${something.else}`: neither env nor vault. */
  readonly unknown: ReadonlyArray<{ readonly path: ConfigPath; readonly text: string }>
}

const TOKEN = /\$\$\{|\$\{([^}]*)\}/g

/**
 * References written wrong, as the config has them (before any value is substituted, so no
 * secret is ever quoted): a `${` never closed, and `${vault.x}` names `sam secrets set` refuses.
 */
export const malformedReferences = (
  tree: unknown,
): Array<{ readonly path: ConfigPath; readonly message: string }> => {
  const out: Array<{ path: ConfigPath; message: string }> = []
  walkStrings(tree, [], (text, path) => {
    const open = /(?<!\$)\$\{[^}]*$/.exec(text)
    if (open)
      out.push({
        path,
        message: `unterminated reference ${JSON.stringify(open[0].slice(0, 40))}: close it with } (or write $\${ for a literal \${)`,
      })
    for (const match of text.matchAll(TOKEN)) {
      const { kind, name } = parseRef(match[1] ?? "")
      if (kind === "vault" && name !== "" && !SECRET_NAME.test(name))
        out.push({
          path,
          message: `\${vault.${name}}: "${name}" is no secret name (letters, digits, _ . / -, as \`sam secrets set\` takes)`,
        })
    }
    return text
  })
  return out
}

const parseRef = (inner: string): { kind: string; name: string } => {
  const dot = inner.indexOf(".")
  return dot === -1 ? { kind: inner, name: "" } : { kind: inner.slice(0, dot), name: inner.slice(dot + 1) }
}

/** Every `${env.*}` / `${vault.*}` reference in the tree, in document order. */
export const collectReferences = (tree: unknown): Array<Reference> => {
  const out: Array<Reference> = []
  walkStrings(tree, [], (text, path) => {
    for (const match of text.matchAll(TOKEN)) {
      if (match[1] === undefined) continue
      const { kind, name } = parseRef(match[1])
      if ((kind === "env" || kind === "vault") && name !== "") out.push({ path, kind, name })
    }
    return text
  })
  return out
}

const walkStrings = (
  node: unknown,
  path: ConfigPath,
  visit: (text: string, path: ConfigPath) => string,
): unknown => {
  if (typeof node === "string") return visit(node, path)
  if (Array.isArray(node)) return node.map((item, i) => walkStrings(item, [...path, i], visit))
  if (isRecord(node)) {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walkStrings(v, [...path, k], visit)]))
  }
  return node
}

export interface ResolveOptions {
  /** Reference kinds resolved in this pass; others are left for a later pass. */
  readonly kinds: ReadonlySet<ReferenceKind>
  readonly lookup: (kind: ReferenceKind, name: string) => string | undefined
  /** The last pass: turns `$${` into `${` and reports unknown reference kinds. */
  readonly final: boolean
}

/**
 * Replaces references of the given kinds using `lookup`.
 * Resolved values always stay strings (use SAM__ environment overrides for typed values).
 */
export const resolveReferences = (tree: unknown, options: ResolveOptions): ResolveResult => {
  const { kinds, lookup, final } = options
  const secretValues = new Set<string>()
  const missing: Array<Reference> = []
  const unknown: Array<{ path: ConfigPath; text: string }> = []
  const value = walkStrings(tree, [], (text, path) =>
    text.replace(TOKEN, (whole, inner: string | undefined) => {
      if (inner === undefined) return final ? "${" : whole
      const { kind, name } = parseRef(inner)
      if (kind === "sam" && name !== "") return whole
      if ((kind !== "env" && kind !== "vault") || name === "") {
        if (final) unknown.push({ path, text: whole })
        return whole
      }
      if (!kinds.has(kind)) return whole
      const resolved = lookup(kind, name)
      if (resolved === undefined) {
        missing.push({ path, kind, name })
        return whole
      }
      if (resolved !== "") secretValues.add(resolved)
      return resolved
    }),
  )
  return { value, secretValues, missing, unknown }
}

/** `text` with every secret value replaced by `***` (longest first, so overlapping secrets mask fully). */
export const maskText = (text: string, secrets: ReadonlySet<string>): string => {
  let out = text
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret !== "") out = out.split(secret).join("***")
  }
  return out
}

/** A copy of `value` with secrets masked in every string. */
export const maskDeep = <A>(value: A, secrets: ReadonlySet<string>): A =>
  secrets.size === 0 ? value : (walkStrings(value, [], (text) => maskText(text, secrets)) as A)
