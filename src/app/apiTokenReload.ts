// A config reload of security.api_tokens, applied to the running control API: added tokens
// authenticate and removed ones stop at once, before any unit is touched (browser sessions and
// streams signed in with a removed or changed token fail their next check). From configured
// tokens to none, SAM takes the local admin token in <state_dir>/token again (written then); from
// none to some, that file goes. Off loopback, a config without tokens is refused whole: the local
// token is for callers on this machine, and SAM keeps the tokens it has.
import type { ApiServer } from "../api/apiServer.ts"
import { isLoopbackHost } from "../api/auth.ts"
import { ensureLocalToken, removeLocalToken } from "../api/localToken.ts"
import type { SamConfig } from "../config/schema.ts"
import { sameValue } from "../runtime/configDiff.ts"
import type { ConfigReloader } from "../runtime/configReload.ts"
import { withholdFromChildren } from "../runtime/drivers/processDriver.ts"

export interface ApiTokenReloadOptions {
  readonly reloader: Pick<ConfigReloader<SamConfig>, "addHook">
  readonly server: Pick<ApiServer, "setTokens" | "host">
  readonly stateDir: string
  /** The local admin token the server accepts now (none when tokens are configured). */
  readonly localToken: string | undefined
  readonly say: (line: string) => void
}

const tokensOf = (config: SamConfig) => config.security.api_tokens ?? {}

/** Keep the server's credentials in step with each reloaded config; returns the function that stops. */
export const reloadApiTokens = (options: ApiTokenReloadOptions): (() => void) => {
  const { server, stateDir, say } = options
  let localToken = options.localToken
  return options.reloader.addHook({
    check: (next) =>
      Object.keys(tokensOf(next)).length === 0 && !isLoopbackHost(server.host)
        ? [
            {
              path: "security.api_tokens",
              message:
                `SAM serves its control API on ${server.host}, where only configured tokens are accepted: ` +
                "a config without any needs a restart of SAM bound to 127.0.0.1 (api.host); SAM keeps the tokens it has",
            },
          ]
        : [],
    before: (next, current) => {
      const tokens = tokensOf(next)
      if (sameValue(tokens, tokensOf(current))) return
      const names = Object.keys(tokens)
      if (names.length === 0) {
        const local = ensureLocalToken(stateDir)
        withholdFromChildren([local.token])
        server.setTokens({ localToken: local.token })
        localToken = local.token
        say(
          `sam: security.api_tokens reloaded: none configured; the control API takes the local admin token in ${local.file}`,
        )
        return
      }
      server.setTokens({ tokens })
      say(`sam: security.api_tokens reloaded: the control API takes ${names.join(", ")} and no other token`)
      if (localToken !== undefined) {
        removeLocalToken(stateDir)
        localToken = undefined
        say(`sam: removed the local admin token ${stateDir}/token (configured tokens replace it)`)
      }
    },
  })
}
