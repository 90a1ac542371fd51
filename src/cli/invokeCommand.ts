// `sam invoke <capability> <json>`: call a capability of the running SAM and print its output
// (JSON on stdout; who served it and how long it took on stderr). --stream prints chunks as they come.
import { Sse } from "effect/encoding"
import { ApiCallError, apiOptions, withApi } from "./apiClient.ts"
import { type Command, EXIT_FAILURE, EXIT_OK, stringOption, UsageError } from "./command.ts"

const show = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value, null, 2))

export const invokeCommand: Command = {
  name: "invoke",
  summary: "Invoke a capability of the running SAM",
  args: "<capability> <json>",
  description:
    "Invoke a capability on the agent the running SAM routes it to, with <json> as its input,\n" +
    `e.g. sam invoke text_summarization '{"text": "..."}'. The output is printed on stdout.`,
  options: {
    ...apiOptions,
    timeout: { type: "string", placeholder: "seconds", description: "Deadline of the call (default 60)" },
    stream: { type: "boolean", description: "Print streamed chunks as they arrive" },
  },
  positionals: { min: 2, max: 2 },
  run: ({ values, positionals, io }) => {
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
      throw new UsageError(`--timeout must be seconds between 0 and 3600, found "${timeout}"`, [
        "sam",
        "invoke",
      ])
    const body = { input, ...(seconds === undefined ? {} : { timeout_seconds: seconds }) }
    const path = `/api/capabilities/${encodeURIComponent(capability)}/invoke`
    return withApi(io, values, async (api) => {
      if (values.stream !== true) {
        const result = await api.call<{ output: unknown; agent: string; duration_ms: number }>(
          "POST",
          path,
          body,
        )
        io.stdout(`${show(result.output)}\n`)
        io.stderr(`served by ${result.agent} in ${result.duration_ms} ms\n`)
        return EXIT_OK
      }
      let code = EXIT_OK
      const parser = Sse.makeParser((event) => {
        if (event._tag !== "Event") return
        const data = JSON.parse(event.data) as Record<string, unknown>
        if (event.event === "chunk") io.stdout(`${show(data)}\n`)
        else if (event.event === "done") io.stderr(`served by ${data.agent} in ${data.duration_ms} ms\n`)
        else if (event.event === "error") {
          io.stderr(`sam: ${data.detail ?? data.title}\n`)
          code = EXIT_FAILURE
        }
      })
      const response = await api.stream("POST", path, { body, headers: { accept: "text/event-stream" } })
      const decoder = new TextDecoder()
      try {
        for await (const chunk of response.body ?? []) parser.feed(decoder.decode(chunk, { stream: true }))
      } catch (error) {
        throw new ApiCallError(
          `the stream broke before the result was complete (${(error as Error).message})`,
        )
      }
      return code
    })
  },
}
