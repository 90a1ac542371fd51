// Imports a TS/JS config file and returns its default export (a value, or a possibly async
// function's result). `.ts` configs are ES modules whatever the nearest package.json says: a
// synchronous load hook (module.registerHooks) forces format module-typescript for exactly the
// config files SAM imports. Failures become positioned problems (syntaxCheck.ts) with a fix.

import { readFile } from "node:fs/promises"
import type { ModuleHooks } from "node:module"
import * as nodeModule from "node:module"
import { dirname, extname, join } from "node:path"
import { pathToFileURL } from "node:url"
import { errorPosition, findSyntaxError } from "./syntaxCheck.ts"

export interface ModuleProblem {
  readonly message: string
  readonly line?: number
  readonly column?: number
}

export type ConfigModuleResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problem: ModuleProblem }

/** File URLs (no query) of `.ts` config files: the only modules the hook changes. */
const typescriptConfigs = new Set<string>()
// Kept so the hook is registered once; SAM never deregisters it (it only matches config URLs).
let hooks: ModuleHooks | undefined

const withoutQuery = (url: string): string => url.replace(/[?#].*$/, "")

/** Installs the load hook once per process; it only touches URLs in typescriptConfigs. */
const forceEsmTypescript = (href: string): ModuleHooks => {
  typescriptConfigs.add(href)
  hooks ??= nodeModule.registerHooks({
    load: (url, context, nextLoad) =>
      typescriptConfigs.has(withoutQuery(url))
        ? nextLoad(url, { ...context, format: "module-typescript" })
        : nextLoad(url, context),
  })
  return hooks
}

const ESM_SYNTAX_AS_COMMONJS =
  /Cannot use import statement outside a module|Unexpected token 'export'|does not provide an export named/
const COMMONJS_AS_ESM = /\b(require|module|exports|__dirname|__filename) is not defined in ES module scope/

/** The "type" of the package.json nearest to `dir` ("commonjs" when none says otherwise). */
const nearestPackageType = async (dir: string): Promise<string> => {
  for (let at = dir; ; at = dirname(at)) {
    try {
      const pkg = JSON.parse(await readFile(join(at, "package.json"), "utf8")) as { type?: unknown }
      return pkg.type === "module" ? "module" : "commonjs"
    } catch {
      // No (readable) package.json here: Node looks further up too.
    }
    if (dirname(at) === at) return "commonjs"
  }
}

/** What to do when Node loaded a module in the other module system than it is written for. */
const moduleTypeFix = async (file: string, message: string): Promise<string> => {
  const ext = extname(file).toLowerCase()
  if (ESM_SYNTAX_AS_COMMONJS.test(message)) {
    if (ext === ".cjs") return "; a .cjs file is CommonJS: use module.exports = {...}, or rename it to .mjs"
    if (ext === ".js")
      return '; Node loads this .js file as CommonJS: rename it to .mjs, or add "type": "module" to the nearest package.json'
    if ((await nearestPackageType(dirname(file))) === "commonjs")
      return '; a .ts/.js module it imports is loaded as CommonJS (package.json "type" is not "module"): rename that file to .mts/.mjs, or add "type": "module" to the nearest package.json'
    return ""
  }
  if (COMMONJS_AS_ESM.test(message)) {
    return `; SAM loads this file as an ES module: write export default {...}${ext === ".js" ? ", or rename it to .cjs" : ""}`
  }
  return ""
}

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? ""

/** Imports `file` fresh (a query defeats the module cache, so a reload sees the edit). */
export const importConfigModule = async (file: string): Promise<ConfigModuleResult> => {
  const ext = extname(file).toLowerCase()
  const href = pathToFileURL(file).href
  if (ext === ".ts") forceEsmTypescript(href)
  let exported: unknown
  try {
    const mod = (await import(`${href}?t=${Date.now()}-${Math.random()}`)) as { default?: unknown }
    exported = typeof mod.default === "function" ? await (mod.default as () => unknown)() : mod.default
  } catch (cause) {
    const syntax = await findSyntaxError(file)
    if (syntax !== undefined) {
      const message = `syntax error: ${syntax.message}${await moduleTypeFix(file, syntax.message)}`
      return { ok: false, problem: { message, line: syntax.line, column: syntax.column } }
    }
    const message = `could not be loaded: ${firstLine(cause)}${await moduleTypeFix(file, firstLine(cause))}`
    return { ok: false, problem: { message, ...errorPosition(cause, href) } }
  }
  if (exported === undefined)
    return { ok: false, problem: { message: "has no default export (export default defineConfig({...}))" } }
  return { ok: true, value: exported }
}
