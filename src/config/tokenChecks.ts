// API tokens must be long enough to be guessed by nobody: at least MIN_API_TOKEN_LENGTH characters
// once `${env.X}` / `${vault.x}` are resolved (an empty variable makes an empty token). Pure; run
// with the cross checks, so `sam validate` and `sam start` refuse the same configs (exit 2).
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
