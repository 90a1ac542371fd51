// How CLI commands talk to a running SAM: find its control API (--url or SAM_URL; else the
// api.json the daemon writes in its state dir: SAM_STATE_DIR's, the config's runtime.state_dir,
// or <config dir>/.sam when the config does not load; else api.host:api.port from the config),
// send SAM_TOKEN as the bearer token, and turn every failure into a message that says what to do.
import { existsSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { apiStateFile, connectUrl, readApiState } from "../api/apiAddress.ts"
import { DEFAULT_CONFIG_FILE, DEFAULT_STATE_DIR } from "../config/constants.ts"
import { ConfigError } from "../config/errors.ts"
import { EXIT_FAILURE, EXIT_USAGE, type OptionSpec, type OptionValues, stringOption } from "./command.ts"
import { configOption } from "./configOptions.ts"
import type { CliIo } from "./io.ts"

export const apiOptions: Readonly<Record<string, OptionSpec>> = {
  config: { ...configOption, description: "Config of the SAM to talk to (for its API address)" },
  url: {
    type: "string",
    placeholder: "url",
    description:
      "Control API URL (default: SAM_URL, else the running SAM's api.json in SAM_STATE_DIR or the config's state dir, else api.host:api.port)",
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

/**
 * The config does not load and no running SAM is recorded beside it: the CLI will not guess a
 * default address for a project whose config is broken (exit 2, the config's problems listed).
 */
export class ConfigUnloadable extends Error {
  readonly _tag = "ConfigUnloadable"
  readonly configError: ConfigError
  constructor(message: string, configError: ConfigError) {
    super(message)
    this.name = "ConfigUnloadable"
    this.configError = configError
  }
}

const DEFAULT_URL = "http://127.0.0.1:7070"

/** The control API address for this invocation. */
export const resolveApiUrl = async (io: CliIo, values: OptionValues): Promise<string> => {
  const explicit = stringOption(values, "url") ?? io.env.SAM_URL
  if (explicit !== undefined && explicit !== "") return explicit.replace(/\/+$/, "")
  const stateDirEnv = io.env.SAM_STATE_DIR
  if (stateDirEnv !== undefined && stateDirEnv !== "") {
    const stateDir = resolve(io.cwd, stateDirEnv)
    const running = readApiState(stateDir)
    if (running) return running.url
    throw new ApiCallError(
      `no running SAM is recorded in ${apiStateFile(stateDir)} (SAM_STATE_DIR): start SAM on that ` +
        `state dir, or set SAM_URL to where it runs`,
    )
  }
  const configPath = stringOption(values, "config")
  const { loadConfig } = await import("../config/load.ts")
  let loaded: Awaited<ReturnType<typeof loadConfig>>
  try {
    loaded = await loadConfig({
      cwd: io.cwd,
      env: io.env,
      secrets: "lenient",
      ...(configPath === undefined ? {} : { configPath }),
    })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return runningBesideConfig(io, configPath, error)
  }
  const running = readApiState(loaded.config.runtime.state_dir)
  if (running) return running.url
  const { host, port } = loaded.config.api
  if (port === 0)
    throw new ApiCallError(
      `the config sets api.port 0 (any free port) and no running SAM recorded its address in ` +
        `${loaded.config.runtime.state_dir}/api.json: is SAM running? Otherwise set SAM_URL`,
    )
  return connectUrl(host, port)
}

/**
 * The config does not load (an editor mid-save, a syntax error): a SAM running on the default
 * state dir beside it is still found; no config file at all means the default address.
 */
const runningBesideConfig = (io: CliIo, configPath: string | undefined, error: ConfigError): string => {
  const configFile = resolve(io.cwd, configPath ?? DEFAULT_CONFIG_FILE)
  const stateDir = join(dirname(configFile), DEFAULT_STATE_DIR)
  const running = readApiState(stateDir)
  if (running) return running.url
  if (configPath === undefined && !existsSync(configFile)) return DEFAULT_URL
  throw new ConfigUnloadable(
    `the config ${configFile} does not load, and no running SAM is recorded in ${apiStateFile(stateDir)}. ` +
      `Fix the config (\`sam validate\` lists every problem), or point the CLI at SAM with --url <url>, ` +
      `SAM_URL=<url> or SAM_STATE_DIR=<its state dir>`,
    error,
  )
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
 * Run a command body against the running SAM; an ApiCallError is printed (exit 1), a config that
 * does not load (with no running SAM found beside it) is reported like other commands do (exit 2).
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
    if (error instanceof ConfigUnloadable) {
      io.stderr(`sam: ${error.message}\n${error.configError.format()}\n`)
      return EXIT_USAGE
    }
    if (error instanceof ConfigError) {
      const { printConfigError } = await import("./configOptions.ts")
      printConfigError(io, error)
      return EXIT_USAGE
    }
    throw error
  }
}
