// How CLI commands reach a running SAM: find its control API (--url or SAM_URL; else the api.json
// the daemon writes in its state dir: SAM_STATE_DIR's, <config dir>/.sam's when that SAM runs this
// config, the config's runtime.state_dir (read from the merged layers when the rest of the config
// does not validate; from the record its SAM keeps in the user's cache when the config does not
// even load: runPointer.ts); else api.host:api.port from the config), take the bearer token (SAM_TOKEN, else <state dir>/token), hand commands the typed client
// (src/api/controlClient.ts), and turn every failure into a message that says what to do.
import { existsSync, readFileSync, statSync } from "node:fs"
import { dirname, isAbsolute, join, relative, resolve } from "node:path"
import {
  type ApiState,
  apiStateFile,
  connectUrl,
  readApiState,
  readRecordedApiState,
} from "../api/apiAddress.ts"
import { ControlApiError, type ControlClient, controlClient } from "../api/controlClient.ts"
import { DEFAULT_STATE_DIR } from "../config/constants.ts"
import { defaultConfigFile } from "../config/defaultConfigFile.ts"
import type { ConfigError } from "../config/errors.ts"
import { EXIT_FAILURE, EXIT_USAGE, type OptionValues, stringOption } from "./command.ts"

/** By tag, without loading the config module (and effect) on the client path. */
const isConfigError = (error: unknown): error is ConfigError =>
  (error as { _tag?: unknown } | null)?._tag === "ConfigError"

import type { CliIo } from "./io.ts"
import { terminalSafe } from "./terminalSafe.ts"

/** A failure the CLI explains itself (no SAM recorded, no such unit, a broken stream). */
export class ApiCallError extends Error {
  readonly _tag = "ApiCallError"
  constructor(message: string) {
    super(message)
    this.name = "ApiCallError"
  }
}

/** No SAM runs where the CLI looked (nothing answers, or the one recorded there has exited). */
export class SamNotRunning extends ApiCallError {
  /** What is so, without the advice (for a command content with it, as `sam shutdown` is). */
  readonly fact: string
  constructor(fact: string, advice: string) {
    super(`${fact}${advice}`)
    this.fact = fact
  }
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

/** Where the running SAM is, and the state dir its api.json was read from (none for a URL). */
export interface SamLocation {
  readonly url: string
  readonly stateDir?: string
  /** A SAM recorded where the CLI looked, no longer running (killed, or it died): named when nothing answers. */
  readonly gone?: { readonly file: string; readonly state: ApiState }
}

/** The SAM `stateDir`'s api.json names when that SAM has exited. */
const goneFrom = (stateDir: string): Pick<SamLocation, "gone"> => {
  const recorded = readRecordedApiState(stateDir)
  return recorded === undefined || recorded.alive
    ? {}
    : { gone: { file: apiStateFile(stateDir), state: recorded.state } }
}

const DEFAULT_URL = "http://127.0.0.1:7070"

/** Env overrides that may move the state dir (SAM__runtime__state_dir, or all of SAM__runtime). */
const stateDirOverridden = (env: CliIo["env"]): boolean =>
  Object.keys(env).some((key) => key === "SAM__runtime" || key.startsWith("SAM__runtime__"))

/** Whether `url` is one the client can call (http or https). */
const callable = (url: string): boolean => {
  try {
    return ["http:", "https:"].includes(new URL(url).protocol)
  } catch {
    return false
  }
}

/**
 * An api.json another user wrote names an address of theirs: the CLI would send its token there.
 * SAM refuses such a state dir at start (privateDir.ts); the CLI refuses to follow one.
 */
const refuseForeign = (file: string): void => {
  const me = process.getuid?.()
  let owner: number
  try {
    owner = statSync(file).uid
  } catch {
    return
  }
  if (me === undefined || owner === me) return
  throw new ApiCallError(
    `${file} belongs to uid ${owner}, not to you (uid ${me}): another user could have written it to have your token sent to an address of theirs, so it is not followed; pass --url to reach a SAM`,
  )
}

/** The control API address (and state dir) for this invocation, checked to be an http(s) URL. */
export const locateSam = async (io: CliIo, values: OptionValues): Promise<SamLocation> => {
  const location = await findSam(io, values)
  if (location.stateDir !== undefined) refuseForeign(apiStateFile(location.stateDir))
  if (callable(location.url)) return location
  const where =
    location.stateDir !== undefined
      ? `the address recorded in ${apiStateFile(location.stateDir)}`
      : stringOption(values, "url") !== undefined
        ? "--url"
        : io.env.SAM_URL
          ? "SAM_URL"
          : "the address api.host and api.port make"
  throw new ApiCallError(`${where} is not an http:// or https:// URL: ${JSON.stringify(location.url)}`)
}

const findSam = async (io: CliIo, values: OptionValues): Promise<SamLocation> => {
  const explicit = stringOption(values, "url") ?? io.env.SAM_URL
  if (explicit !== undefined && explicit !== "") return { url: explicit.replace(/\/+$/, "") }
  const stateDirEnv = io.env.SAM_STATE_DIR
  if (stateDirEnv !== undefined && stateDirEnv !== "") {
    const stateDir = resolve(io.cwd, stateDirEnv)
    const running = readApiState(stateDir)
    if (running) return { url: running.url, stateDir }
    throw new SamNotRunning(
      `no running SAM is recorded in ${apiStateFile(stateDir)} (SAM_STATE_DIR)`,
      ": start SAM on that state dir, or set SAM_URL to where it runs",
    )
  }
  const configPath = stringOption(values, "config")
  const configFile = resolve(io.cwd, configPath ?? defaultConfigFile(io.cwd))
  // The common case without loading the config (which costs more than the call itself): a SAM
  // running this very config on the default state dir beside it, or (no sam.config.ts here, none
  // named) the SAM started here with another config file.
  const beside = join(dirname(configFile), DEFAULT_STATE_DIR)
  const near = stateDirOverridden(io.env) ? undefined : readApiState(beside)
  const noConfigHere = configPath === undefined && !existsSync(configFile)
  if (near && (near.config === undefined || near.config === configFile || noConfigHere))
    return { url: near.url, stateDir: beside }
  // No config file here at all (loadConfig would only say so): SAM's default address, unless the
  // SAM recorded here is gone (that is the one meant, not whatever answers on the default port).
  if (noConfigHere) {
    const { gone } = goneFrom(beside)
    if (gone) throw notRunningAs(gone, io.cwd)
    return { url: DEFAULT_URL }
  }
  const { readMergedConfig, stateDirOf } = await import("../config/mergedConfig.ts")
  const { validateMergedConfig } = await import("../config/load.ts")
  let merged: Awaited<ReturnType<typeof readMergedConfig>>
  try {
    merged = await readMergedConfig({
      cwd: io.cwd,
      env: io.env,
      ...(configPath === undefined ? {} : { configPath }),
    })
  } catch (error) {
    if (!isConfigError(error)) throw error
    // Its runtime.state_dir cannot be read: the state dir the SAM running it recorded (runPointer.ts).
    const { readRunPointer } = await import("../api/runPointer.ts")
    const recorded = readRunPointer(io.env, configFile)
    const stateDirs = recorded === undefined || recorded === beside ? [beside] : [recorded, beside]
    return runningDespiteConfig(io, { configFile, error, verb: "does not load", stateDirs })
  }
  let loaded: Awaited<ReturnType<typeof validateMergedConfig>>
  try {
    loaded = await validateMergedConfig(merged, { env: io.env, secrets: "lenient" })
  } catch (error) {
    if (!isConfigError(error)) throw error
    // The files read but do not validate (a typo mid-edit): the state dir they name still says
    // where SAM is, when that value itself is usable.
    const named =
      stateDirOf(merged) ?? (await import("../api/runPointer.ts")).readRunPointer(io.env, configFile)
    const stateDirs = named === undefined || named === beside ? [beside] : [named, beside]
    return runningDespiteConfig(io, { configFile, error, verb: "does not validate", stateDirs })
  }
  const stateDir = loaded.config.runtime.state_dir
  const running = readApiState(stateDir)
  if (running) return { url: running.url, stateDir }
  const { host, port } = loaded.config.api
  const gone = goneFrom(stateDir)
  if (port === 0)
    throw gone.gone
      ? notRunningAs(gone.gone, io.cwd)
      : new SamNotRunning(
          `the config sets api.port 0 (any free port) and no running SAM recorded its address in ${stateDir}/api.json`,
          ": is SAM running? Otherwise set SAM_URL",
        )
  return { url: connectUrl(host, port), ...gone }
}

/** The path as typed from `cwd` (relative when inside it). */
const fromCwd = (path: string, cwd: string): string => {
  const rel = relative(cwd, path)
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path
}

/** Which SAM is gone (the fact), and how to start it again (the advice). */
const goneSentence = (
  gone: NonNullable<SamLocation["gone"]>,
  cwd: string,
): { fact: string; advice: string } => {
  const { state } = gone
  const config = state.config === undefined ? "" : ` --config ${fromCwd(state.config, cwd)}`
  return {
    fact:
      `the SAM recorded in ${fromCwd(gone.file, cwd)} (pid ${state.pid}, ${state.url}, started ${state.startedAt}) ` +
      "has exited without stopping cleanly",
    advice: `; start it again with \`sam start${config}\``,
  }
}

const notRunningAs = (gone: NonNullable<SamLocation["gone"]>, cwd: string, at = ""): SamNotRunning => {
  const { fact, advice } = goneSentence(gone, cwd)
  return new SamNotRunning(`SAM is not running${at}: ${fact}`, advice)
}

/** Nothing answered at `url`: why, and what to do. */
const notAnswering = (url: string, location: SamLocation | undefined, cwd: string): SamNotRunning =>
  location?.gone
    ? notRunningAs(location.gone, cwd, ` at ${url}`)
    : new SamNotRunning(
        `SAM is not running at ${url}`,
        ": start it with `sam start` (`npx sam start` in a project that installed SAM), or set SAM_URL to where it runs",
      )

/**
 * The config does not load or validate (an editor mid-save, a syntax error, a typo): a SAM
 * running on one of `stateDirs` (the one the config names when it is usable, the default beside
 * it) is still found, saying on stderr that the config is broken; else ConfigUnloadable.
 */
const runningDespiteConfig = async (
  io: CliIo,
  broken: {
    readonly configFile: string
    readonly error: ConfigError
    readonly verb: "does not load" | "does not validate"
    readonly stateDirs: ReadonlyArray<string>
  },
): Promise<SamLocation> => {
  const { configFile, error, verb, stateDirs } = broken
  for (const stateDir of stateDirs) {
    const running = readApiState(stateDir)
    if (running === undefined) continue
    // Loaded already, with the config module that failed.
    const { formatIssue } = await import("../config/errors.ts")
    const [first] = error.issues
    const more = error.issues.length - 1
    const problem =
      first === undefined
        ? ""
        : ` (${formatIssue(first).replace(/\s*\n\s*/g, " ")}${more > 0 ? `, and ${more} more` : ""})`
    io.stderr(
      `sam: warning: the config ${fromCwd(configFile, io.cwd)} ${verb}${problem}; ` +
        `using the SAM recorded in ${fromCwd(apiStateFile(stateDir), io.cwd)} (\`sam validate\` lists every problem)\n`,
    )
    return { url: running.url, stateDir }
  }
  throw new ConfigUnloadable(
    `the config ${configFile} does not load, and no running SAM is recorded in ` +
      `${stateDirs.map(apiStateFile).join(" or ")}. ` +
      `Fix the config (\`sam validate\` lists every problem), or point the CLI at SAM with --url <url>, ` +
      `SAM_URL=<url> or SAM_STATE_DIR=<its state dir>`,
    error,
  )
}

/** The token the calls carry, and where it came from (for the advice when SAM refuses it). */
export interface Token {
  readonly token: string
  readonly from: string
}

/**
 * SAM_TOKEN, else the local admin token a SAM keeps in `<state dir>/token` (mode 0600) beside the
 * api.json the CLI found it by.
 */
export const tokenFor = (io: CliIo, location: SamLocation): Token | undefined => {
  const fromEnv = io.env.SAM_TOKEN
  if (fromEnv !== undefined && fromEnv !== "") return { token: fromEnv, from: "SAM_TOKEN" }
  if (location.stateDir === undefined) return undefined
  const file = join(location.stateDir, "token")
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (error) {
    // No token file: this SAM has configured tokens (SAM_TOKEN is needed); anything else is worth saying.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      io.stderr(`sam: warning: cannot read ${file} (${(error as Error).message}); calling SAM without it\n`)
    return undefined
  }
  const token = text.trim()
  return token === "" ? undefined : { token, from: file }
}

/** The typed client for the running SAM, with its token. */
export const connectApi = async (
  io: CliIo,
  values: OptionValues,
): Promise<{ client: ControlClient; token: Token | undefined; location: SamLocation }> => {
  const location = await locateSam(io, values)
  const token = tokenFor(io, location)
  return { client: controlClient({ url: location.url, token: token?.token }), token, location }
}

/** What the CLI says about a failed call. */
const describeFailure = (
  error: ControlApiError,
  token: Token | undefined,
  location: SamLocation | undefined,
  cwd: string,
): string => {
  if (error.unreachable) return notAnswering(error.url, location, cwd).message
  // Closed without an answer: a SAM that died while answering is named as gone.
  const { gone } = location?.stateDir === undefined ? {} : goneFrom(location.stateDir)
  if (error.status === undefined && gone) return notRunningAs(gone, cwd, ` at ${error.url}`).message
  if (error.status !== 401) return error.message
  // The API's own 401 text is written for any HTTP client; the CLI says it in its own terms.
  if (token === undefined)
    return `SAM at ${error.url} needs a token and the CLI found none. Set SAM_TOKEN to a token from security.api_tokens in SAM's config (a SAM without configured tokens keeps its local token in <state_dir>/token, which the CLI reads)`
  if (token.from === "SAM_TOKEN")
    return `SAM at ${error.url} refused the token in SAM_TOKEN: it matches none of its tokens. Set SAM_TOKEN to a token from security.api_tokens in SAM's config, or unset it to use the local token of a SAM without configured tokens (<state_dir>/token)`
  return `${error.message}: SAM refused the token in ${token.from}. Set SAM_TOKEN to a token from security.api_tokens in SAM's config`
}

/**
 * Run a command body against the running SAM; a failed call is printed (exit 1), a config that
 * does not load (with no running SAM found beside it) is reported like other commands do (exit 2).
 */
export const withApi = async (
  io: CliIo,
  values: OptionValues,
  body: (
    client: ControlClient,
    connection: { token: Token | undefined; location: SamLocation },
  ) => Promise<number>,
  /** Answers "no SAM runs there" itself (its exit code) instead of failing with exit 1. */
  notRunning?: (why: SamNotRunning) => number | Promise<number>,
): Promise<number> => {
  let token: Token | undefined
  let location: SamLocation | undefined
  try {
    const connected = await connectApi(io, values)
    token = connected.token
    location = connected.location
    return await body(connected.client, connected)
  } catch (error) {
    if (error instanceof ControlApiError) {
      if (error.unreachable && notRunning) return notRunning(notAnswering(error.url, location, io.cwd))
      // SAM's problems quote units' output (a capability's error): escaped as `sam logs` shows it.
      io.stderr(`sam: ${terminalSafe(describeFailure(error, token, location, io.cwd))}\n`)
      return EXIT_FAILURE
    }
    if (error instanceof SamNotRunning && notRunning) return await notRunning(error)
    if (error instanceof ApiCallError) {
      io.stderr(`sam: ${terminalSafe(error.message)}\n`)
      return EXIT_FAILURE
    }
    if (error instanceof ConfigUnloadable) {
      io.stderr(`sam: ${error.message}\n${error.configError.format()}\n`)
      return EXIT_USAGE
    }
    if (isConfigError(error)) {
      const { printConfigError } = await import("./configOptions.ts")
      printConfigError(io, error)
      return EXIT_USAGE
    }
    throw error
  }
}
