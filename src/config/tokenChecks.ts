// API tokens must be long enough to be guessed by nobody: at least MIN_API_TOKEN_LENGTH characters
// once `${env.X}` / `${vault.x}` are resolved (an empty variable makes an empty token), and no
// agent or service may be handed one in its environment. Pure; run with the cross checks, so
// `sam validate` and `sam start` refuse the same configs (exit 2).
import { isRecord } from "./configPath.ts"
import { MIN_API_TOKEN_LENGTH } from "./constants.ts"
import type { IssueDraft } from "./issueDraft.ts"

/** A reference left as written (lenient validation without the secret): its length says nothing. */
const unresolved = /\$\{(env|vault)\.[^}]+\}/

export const checkApiTokens = (raw: Record<string, unknown>, out: Array<IssueDraft>): void => {
  const security = raw.security
  if (!isRecord(security) || !isRecord(security.api_tokens)) return
  for (const [name, entry] of Object.entries(security.api_tokens)) {
    if (!isRecord(entry) || typeof entry.token !== "string") continue
    const { token } = entry
    // The schema already says an empty token is wrong; say why a short one is, never its value.
    if (token === "" || unresolved.test(token) || token.length >= MIN_API_TOKEN_LENGTH) continue
    out.push({
      path: ["security", "api_tokens", name, "token"],
      message:
        `the token of "${name}" is ${token.length} characters long; API tokens need at least ` +
        `${MIN_API_TOKEN_LENGTH} (counted after secrets resolve): generate one with \`openssl rand -hex 32\``,
    })
  }
}

/** Where units are given environment variables: agents' `environment`, services' `deployment.env`. */
const unitEnvironments = (raw: Record<string, unknown>) => {
  const out: Array<{ path: Array<string>; env: Record<string, unknown> }> = []
  for (const [kind, key] of [
    ["agents", ["environment"]],
    ["services", ["deployment", "env"]],
  ] as const) {
    const section = raw[kind]
    if (!isRecord(section)) continue
    for (const [id, unit] of Object.entries(section)) {
      let env: unknown = unit
      for (const k of key) env = isRecord(env) ? env[k] : undefined
      if (isRecord(env)) out.push({ path: [kind, id, ...key], env })
    }
  }
  return out
}

/** A unit given an API token could drive SAM: refused, whatever the variable is called. */
export const checkTokenHandouts = (raw: Record<string, unknown>, out: Array<IssueDraft>): void => {
  const security = raw.security
  if (!isRecord(security) || !isRecord(security.api_tokens)) return
  const tokens = Object.entries(security.api_tokens).flatMap(([name, entry]) =>
    isRecord(entry) && typeof entry.token === "string" && entry.token.length >= MIN_API_TOKEN_LENGTH
      ? [{ name, token: entry.token }]
      : [],
  )
  if (tokens.length === 0) return
  for (const { path, env } of unitEnvironments(raw))
    for (const [variable, value] of Object.entries(env)) {
      const given = typeof value === "string" ? tokens.find((t) => value.includes(t.token)) : undefined
      if (given)
        out.push({
          path: [...path, variable],
          message:
            `holds the API token "${given.name}": a unit given an API token can drive SAM. Agents call ` +
            "capabilities through ctx.invoke (no token needed); remove the variable",
        })
    }
}
