// `sam dashboard` (described in commands.ts): print the running SAM's dashboard login link again,
// `http://<host>:<port>/?token=…`, with the token the CLI would use itself (SAM_TOKEN, else the
// local token in the state dir), after checking that SAM accepts it. The link signs a browser in.

import { ControlApiError } from "../api/controlApiError.ts"
import { dashboardLink } from "../api/dashboardLink.ts"
import { withApi } from "./apiClient.ts"
import { type CommandRun, EXIT_FAILURE, EXIT_OK } from "./command.ts"

export const run: CommandRun = ({ values, io }) =>
  withApi(io, values, async (client, { token, location }) => {
    if (token === undefined) {
      // No SAM there at all says more than the missing token (its local token goes with its run).
      await client.system.status().catch((error: unknown) => {
        if (error instanceof ControlApiError && error.unreachable) throw error
      })
      io.stderr(
        `sam: no token to sign in with: set SAM_TOKEN to a token from security.api_tokens` +
          `${location.stateDir === undefined ? "" : ` (there is no local token in ${location.stateDir}/token)`}\n`,
      )
      return EXIT_FAILURE
    }
    // Refused or unreachable: withApi says why, instead of printing a link that cannot work.
    await client.system.status()
    io.stdout(`dashboard: ${dashboardLink(location.url, token.token)}\n`)
    return EXIT_OK
  })
