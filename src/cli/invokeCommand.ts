// `sam invoke <capability> <json>` (described in commands.ts): call a capability of the running SAM
// and print its output (JSON on stdout; who served it and how long it took on stderr). --stream
// prints chunks as they come: a string as it is (tokens make the text they spell), anything else
// as one line of JSON.
import { ApiCallError, withApi } from "./apiClient.ts"
import { type CommandRun, EXIT_FAILURE, EXIT_OK, stringOption, UsageError } from "./command.ts"
import type { CliIo } from "./io.ts"
import { terminalSafe } from "./terminalSafe.ts"

/**
 * The output as JSON (a string as it is). To a terminal, a unit's control characters are shown
 * escaped as `sam logs` shows them; a pipe gets the exact output.
 */
const show = (io: CliIo, value: unknown) => {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2)
  return io.columns === undefined ? text : terminalSafe(text)
}

export const run: CommandRun = ({ values, positionals, io }) => {
  const [capability, text] = positionals as [string, string]
  let input: unknown
  try {
    input = JSON.parse(text)
  } catch (error) {
    throw new UsageError(
      `<json> is not valid JSON (${(error as Error).message}); quote it for the shell: '{"key": "value"}'`,
      ["sam", "invoke"],
    )
  }
  const timeout = stringOption(values, "timeout")
  const seconds = timeout === undefined ? undefined : Number(timeout)
  if (seconds !== undefined && (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600))
    throw new UsageError(`--timeout must be seconds above 0 and at most 3600, found "${timeout}"`, [
      "sam",
      "invoke",
    ])
  const request = {
    params: { name: capability },
    payload: { input, ...(seconds === undefined ? {} : { timeout_seconds: seconds }) },
  }
  return withApi(io, values, async (client) => {
    if (values.stream !== true) {
      const result = await client.capabilities.invoke(request)
      io.stdout(`${show(io, result.output)}\n`)
      io.stderr(`served by ${result.agent} in ${result.duration_ms} ms\n`)
      return EXIT_OK
    }
    let code = EXIT_OK
    // Whether stdout's last character is a newline (a terminal gets one before the prompt).
    let atLineStart = true
    const write = (text: string) => {
      if (text === "") return
      io.stdout(text)
      atLineStart = text.endsWith("\n")
    }
    const endLine = () => {
      if (!atLineStart && io.columns !== undefined) write("\n")
    }
    const events = await client.streams.capabilities.invoke(request)
    try {
      for await (const event of events) {
        const data = (event.data ?? {}) as Record<string, unknown>
        if (event.event === "chunk") {
          if (typeof event.data === "string") write(show(io, event.data))
          else write(`${atLineStart ? "" : "\n"}${show(io, JSON.stringify(event.data))}\n`)
        } else if (event.event === "done") {
          endLine()
          io.stderr(`served by ${data.agent} in ${data.duration_ms} ms\n`)
        } else if (event.event === "error") {
          endLine()
          io.stderr(`sam: ${terminalSafe(String(data.detail ?? data.title))}\n`)
          code = EXIT_FAILURE
        }
      }
    } catch (error) {
      throw new ApiCallError(`the stream broke before the result was complete (${(error as Error).message})`)
    }
    return code
  })
}
