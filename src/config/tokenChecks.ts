// API tokens must be long enough to be guessed by nobody: at least MIN_API_TOKEN_LENGTH characters
// once `${env.X}` / `${vault.x}` are resolved (an empty variable makes an empty token), and no
// agent or service may be handed one anywhere in its settings. Pure; run with the cross checks, so
// `sam validate` and `sam start` refuse the same configs (exit 2).
import { isRecord } from "./configPath.ts"
import { MIN_API_TOKEN_LENGTH } from "./constants.ts"
import type { IssueDraft } from "./issueDraft.ts"

/** A reference left as written (lenient validation without the secret): its length says nothing. */
const unresolved = /\$\{(env|vault)\.[^}]+\}/

export const checkApiTokens = (raw: Record<string, unknown>, out: Array<IssueDraft>): void => {
  const security = raw.security
  if (!isRecord(security) || !isRecord(security.api_tokens)) return
  /** The first name each token value was given, to tell a value given twice. */
  const named = new Map<string, string>()
  for (const [name, entry] of Object.entries(security.api_tokens)) {
    if (!isRecord(entry) || typeof entry.token !== "string") continue
    const { token } = entry
    const path = ["security", "api_tokens", name, "token"]
    // The schema already says an empty token is wrong; say why a short one is, never its value.
    if (token === "" || unresolved.test(token)) continue
    if (token.length < MIN_API_TOKEN_LENGTH) {
      out.push({
        path,
        message:
          `the token of "${name}" is ${token.length} characters long; API tokens need at least ` +
          `${MIN_API_TOKEN_LENGTH} (counted after secrets resolve): generate one with \`openssl rand -hex 32\``,
      })
      continue
    }
    // A header or a shell trims it: the token sent would not be the one configured.
    if (token.trim() !== token && token.trim() !== "")
      out.push({
        path,
        message: `the token of "${name}" has white space at its start or end (a newline from a file?): remove it`,
      })
    // Spaces only, or one character over and over: as easy to guess as a short one.
    if (new Set(token.trim()).size <= 1)
      out.push({
        path,
        message: `the token of "${name}" is ${token.trim() === "" ? "only white space" : "one character repeated"}: generate one with \`openssl rand -hex 32\``,
      })
    const first = named.get(token)
    if (first !== undefined)
      out.push({
        path,
        message: `"${name}" has the same token as "${first}": a request with it could be either (and take either's role); give each its own`,
      })
    else named.set(token, name)
  }
}

/** Every string a unit's settings hold, with its path: environment, args, an agent's config, ... */
const unitStrings = (raw: Record<string, unknown>) => {
  const out: Array<{ path: Array<string | number>; value: string }> = []
  const walk = (value: unknown, path: Array<string | number>) => {
    if (typeof value === "string") out.push({ path, value })
    else if (Array.isArray(value)) for (const [i, v] of value.entries()) walk(v, [...path, i])
    else if (isRecord(value)) for (const [k, v] of Object.entries(value)) walk(v, [...path, k])
  }
  for (const kind of ["agents", "services"] as const) {
    const section = raw[kind]
    if (isRecord(section)) for (const [id, unit] of Object.entries(section)) walk(unit, [kind, id])
  }
  return out
}

/**
 * A unit given an API token could drive SAM: refused wherever it is written (an environment
 * variable, an argument every user sees in `ps`, an agent's `config` its code reads).
 */
export const checkTokenHandouts = (raw: Record<string, unknown>, out: Array<IssueDraft>): void => {
  const security = raw.security
  if (!isRecord(security) || !isRecord(security.api_tokens)) return
  const tokens = Object.entries(security.api_tokens).flatMap(([name, entry]) =>
    isRecord(entry) && typeof entry.token === "string" && entry.token.length >= MIN_API_TOKEN_LENGTH
      ? [{ name, token: entry.token }]
      : [],
  )
  if (tokens.length === 0) return
  for (const { path, value } of unitStrings(raw)) {
    const given = tokens.find((t) => value.includes(t.token))
    if (given)
      out.push({
        path,
        message:
          `holds the API token "${given.name}": a unit given an API token can drive SAM. ` +
          (path[0] === "agents"
            ? "Agents call capabilities through ctx.invoke (no token needed); remove it"
            : "A service reaches its dependencies through SAM_<ID>_URL, and the gateway with its own SAM_GATEWAY_TOKEN; remove it"),
      })
  }
}
