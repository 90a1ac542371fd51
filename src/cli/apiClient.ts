// How CLI commands talk to a running SAM: find its control API (SAM_URL, else the api.json the
// daemon writes in its state directory, else api.host:api.port from the config), send SAM_TOKEN
// as the bearer token, and turn every failure into a message that says what to do next.
import { connectUrl, readApiState } from "../api/apiAddress.ts"
import { ConfigError } from "../config/errors.ts"
import { EXIT_FAILURE, EXIT_USAGE, type OptionSpec, type OptionValues, stringOption } from "./command.ts"
import { configOption } from "./configOptions.ts"
import type { CliIo } from "./io.ts"

export const apiOptions: Readonly<Record<string, OptionSpec>> = {
  config: { ...configOption, description: "Config of the SAM to talk to (for its API address)" },
  url: {
    type: "string",
    placeholder: "url",
    description: "Control API URL (default: SAM_URL, else the running SAM's, else api.host:api.port)",
  },
}

/** A failed call, with a message that says what to do. */
export class ApiCallError extends Error {
  readonly status: number | undefined
  readonly problem: Record<string, unknown> | undefined
  constructor(message: string, status?: number, problem?: Record<string, unknown>) {
    super(message)
    this.name = "ApiCallError"
    this.status = status
    this.problem = problem
  }
}

export interface SamApi {
  readonly url: string
  /** JSON in, JSON out; rejects with ApiCallError. */
  call<A = unknown>(method: string, path: string, body?: unknown): Promise<A>
  /** The raw response of a streaming call (already checked for success). */
  stream(
    method: string,
    path: string,
    init: { body?: unknown; signal?: AbortSignal; headers?: Record<string, string> },
  ): Promise<Response>
}

/** The control API address for this invocation. */
export const resolveApiUrl = async (io: CliIo, values: OptionValues): Promise<string> => {
  const explicit = stringOption(values, "url") ?? io.env.SAM_URL
  if (explicit !== undefined && explicit !== "") return explicit.replace(/\/+$/, "")
  const configPath = stringOption(values, "config")
  const { loadConfig } = await import("../config/load.ts")
  try {
    const loaded = await loadConfig({
      cwd: io.cwd,
      env: io.env,
      secrets: "lenient",
      ...(configPath === undefined ? {} : { configPath }),
    })
    const running = readApiState(loaded.config.runtime.state_dir)
    if (running) return running.url
    const { host, port } = loaded.config.api
    if (port === 0)
      throw new ApiCallError(
        `the config sets api.port 0 (any free port) and no running SAM recorded its address in ` +
          `${loaded.config.runtime.state_dir}/api.json: is SAM running? Otherwise set SAM_URL`,
      )
    return connectUrl(host, port)
  } catch (error) {
    // No config here (or an unreadable one) and none asked for: the default address.
    if (error instanceof ConfigError && configPath === undefined) return "http://127.0.0.1:7070"
    throw error
  }
}

const describeProblem = (
  status: number,
  problem: Record<string, unknown> | undefined,
  text: string,
): string => {
  const detail = typeof problem?.detail === "string" ? problem.detail : text.trim() || `HTTP ${status}`
  if (status === 401) return `${detail}. Set SAM_TOKEN to a token from security.api_tokens in SAM's config`
  return detail
}

export const connectApi = async (io: CliIo, values: OptionValues): Promise<SamApi> => {
  const url = await resolveApiUrl(io, values)
  const token = io.env.SAM_TOKEN
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    accept: "application/json",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  })
  const send = async (
    method: string,
    path: string,
    init: { body?: unknown; signal?: AbortSignal; headers?: Record<string, string> },
  ) => {
    let response: Response
    try {
      response = await fetch(`${url}${path}`, {
        method,
        headers: headers({
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
          ...init.headers,
        }),
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        ...(init.signal === undefined ? {} : { signal: init.signal }),
      })
    } catch (error) {
      if ((error as Error).name === "AbortError") throw error
      throw new ApiCallError(
        `SAM is not running at ${url}: start it with \`npm start\` (or \`sam start\`), or set SAM_URL to where it runs`,
      )
    }
    if (!response.ok) {
      const text = await response.text().catch(() => "")
      let problem: Record<string, unknown> | undefined
      try {
        problem = JSON.parse(text) as Record<string, unknown>
      } catch {
        problem = undefined
      }
      throw new ApiCallError(describeProblem(response.status, problem, text), response.status, problem)
    }
    return response
  }
  return {
    url,
    call: async <A>(method: string, path: string, body?: unknown) => {
      const response = await send(method, path, body === undefined ? {} : { body })
      const text = await response.text()
      return (text === "" ? undefined : JSON.parse(text)) as A
    },
    stream: send,
  }
}

/**
 * Run a command body against the running SAM; an ApiCallError is printed (exit 1), an invalid
 * --config is reported like other commands do (exit 2).
 */
export const withApi = async (
  io: CliIo,
  values: OptionValues,
  body: (api: SamApi) => Promise<number>,
): Promise<number> => {
  try {
    return await body(await connectApi(io, values))
  } catch (error) {
    if (error instanceof ApiCallError) {
      io.stderr(`sam: ${error.message}\n`)
      return EXIT_FAILURE
    }
    if (error instanceof ConfigError) {
      const { printConfigError } = await import("./configOptions.ts")
      printConfigError(io, error)
      return EXIT_USAGE
    }
    throw error
  }
}
