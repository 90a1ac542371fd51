// `sam shutdown` (described in commands.ts): stop the running SAM as a whole — every unit in
// reverse dependency order, then SAM itself — through POST /api/shutdown, and wait until it is gone.
import { alive } from "../api/apiAddress.ts"
import { isLoopbackHost } from "../api/auth.ts"
import { ApiCallError, withApi } from "./apiClient.ts"
import { type CommandRun, EXIT_FAILURE, EXIT_OK } from "./command.ts"

const seconds = (text: unknown, fallback: number): number => {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0)
    throw new ApiCallError(`--timeout: expected a positive number of seconds, found "${String(text)}"`)
  return value
}

export const run: CommandRun = ({ values, io }) =>
  withApi(
    io,
    values,
    async (client, { location }) => {
      const timeoutMs = seconds(values.timeout, 120) * 1000
      const { pid } = await client.system.shutdown()
      io.stdout(`sam: SAM (pid ${pid}) is stopping its units, then itself\n`)
      // Only a SAM on this machine can be watched by its pid.
      if (!isLoopbackHost(new URL(location.url).hostname.replace(/^\[|\]$/g, ""))) return EXIT_OK
      const deadline = Date.now() + timeoutMs
      while (alive(pid)) {
        if (Date.now() > deadline) {
          io.stderr(`sam: SAM (pid ${pid}) is still stopping after ${timeoutMs / 1000} s; it goes on\n`)
          return EXIT_FAILURE
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      io.stdout("sam: stopped\n")
      return EXIT_OK
    },
    // Like `docker compose down` with nothing up: the wanted end state holds already.
    (why) => {
      io.stdout(`sam: ${why.fact}; nothing to shut down\n`)
      return EXIT_OK
    },
  )
