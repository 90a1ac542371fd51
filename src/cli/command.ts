// The shape of a CLI command and the shared argument parsing: node:util parseArgs, `--help` on every
// command, and usage errors that name the offending argument with a did-you-mean hint. A command is
// static data (names, help text, option specs) plus `load`, which imports its body on demand.

import { parseArgs } from "node:util"
import { suggestionSuffix } from "../config/suggest.ts"
import type { CliIo } from "./io.ts"

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
/** Usage errors and invalid configuration: nothing was started or changed. */
export const EXIT_USAGE = 2

export interface OptionSpec {
  readonly type: "string" | "boolean"
  readonly short?: string
  readonly multiple?: boolean
  /** Placeholder shown in help: `--config <file>`. */
  readonly placeholder?: string
  readonly description: string
}

export type OptionValues = Record<string, string | boolean | Array<string> | undefined>

export interface CommandContext {
  readonly values: OptionValues
  readonly positionals: ReadonlyArray<string>
  readonly io: CliIo
}

/** A command's body; resolves to the exit code. */
export type CommandRun = (ctx: CommandContext) => Promise<number>

export interface Command {
  readonly name: string
  readonly summary: string
  /** Starts SAM itself (`sam start`): never offered as a did-you-mean for a mistyped command. */
  readonly startsDaemon?: boolean
  /** Arguments after the command name, for the usage line: `<key> [value]`. */
  readonly args?: string
  readonly description?: string
  readonly options?: Readonly<Record<string, OptionSpec>>
  readonly positionals?: { readonly min: number; readonly max: number }
  readonly subcommands?: ReadonlyArray<Command>
  /**
   * Imports the body: `load: () => import("./psCommand.ts").then((m) => m.run)`. Only the command
   * that runs is loaded, so `sam --version`, `--help` and usage errors load none.
   */
  readonly load?: () => Promise<CommandRun>
  /**
   * A body given inline. Everything its module imports loads with the command table, so keep it
   * for bodies that import nothing; prefer `load`.
   */
  readonly run?: CommandRun
}

export class UsageError extends Error {
  readonly _tag = "UsageError"
  readonly command: ReadonlyArray<string>
  constructor(message: string, command: ReadonlyArray<string>) {
    super(message)
    this.name = "UsageError"
    this.command = command
  }
}

const HELP: OptionSpec = { type: "boolean", short: "h", description: "Show this help" }

const optionLabel = (name: string, spec: OptionSpec): string =>
  `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.type === "string" ? ` <${spec.placeholder ?? "value"}>` : ""}`

/** Help text of `command` reached through `path` (["sam", "config", "print"]). */
export const formatHelp = (command: Command, path: ReadonlyArray<string>): string => {
  const options = { ...command.options, help: HELP }
  const optionSyntax = Object.entries(command.options ?? {})
    .map(([name, spec]) => {
      const flag = `--${name}${spec.type === "string" ? ` <${spec.placeholder ?? "value"}>` : ""}`
      return `[${flag}]${spec.multiple ? "..." : ""}`
    })
    .join(" ")
  const lines: Array<string> = []
  const sub = command.subcommands !== undefined && command.subcommands.length > 0
  // A command that also runs by itself (`sam crashes`, `sam crashes show <id>`) takes one optionally.
  const subSyntax = sub ? (command.load ? "[<command>]" : "<command>") : undefined
  lines.push(
    `Usage: ${[...path, subSyntax, command.args, optionSyntax].filter((s) => s !== undefined && s !== "").join(" ")}`,
    "",
    command.description ?? command.summary,
  )
  if (sub) {
    lines.push("", "Commands:")
    const width = Math.max(
      ...command.subcommands!.map((c) => c.name.length + (c.args ? c.args.length + 1 : 0)),
    )
    for (const c of command.subcommands!) {
      lines.push(`  ${`${c.name}${c.args ? ` ${c.args}` : ""}`.padEnd(width)}   ${c.summary}`)
    }
  }
  lines.push("", "Options:")
  const labels = Object.entries(options).map(([name, spec]) => [optionLabel(name, spec), spec] as const)
  const width = Math.max(...labels.map(([label]) => label.length))
  for (const [label, spec] of labels) {
    lines.push(`  ${label.padEnd(width)}   ${spec.description}${spec.multiple ? " (repeatable)" : ""}`)
  }
  if (sub) lines.push("", `Run '${path.join(" ")} <command> --help' for a command's options.`)
  return `${lines.join("\n")}\n`
}

const negativeNumber = /^-\d+(\.\d+)?$/
const negativeMark = "\u0000"

/**
 * `-3` is a value, not a flag (parseArgs takes it for one): after a string option it becomes that
 * option's `--name=-3`; elsewhere a marked positional (restoreNegative), so `sam scale web -1` and
 * `sam logs web -n -3` reach the commands' own checks, which say what the number must be.
 */
const withNegativeNumbers = (
  argv: ReadonlyArray<string>,
  specs: Readonly<Record<string, { readonly type: string; readonly short?: string }>>,
): Array<string> => {
  const takesValue = (token: string): string | undefined => {
    const name = token.startsWith("--")
      ? token.slice(2)
      : Object.entries(specs).find(([, spec]) => spec.short !== undefined && `-${spec.short}` === token)?.[0]
    return name !== undefined && !name.includes("=") && specs[name]?.type === "string" ? name : undefined
  }
  const out: Array<string> = []
  for (const [i, token] of argv.entries()) {
    if (!negativeNumber.test(token) || argv.slice(0, i).includes("--")) {
      out.push(token)
      continue
    }
    const name = i > 0 ? takesValue(argv[i - 1]!) : undefined
    if (name !== undefined) out[out.length - 1] = `--${name}=${token}`
    else out.push(`${negativeMark}${token}`)
  }
  return out
}

const restoreNegative = (positional: string): string =>
  positional.startsWith(negativeMark) ? positional.slice(1) : positional

/** Parses `argv` for `command`; throws UsageError naming an unknown flag or a missing/extra argument. */
export const parseCommandArgs = (
  command: Command,
  argv: ReadonlyArray<string>,
  path: ReadonlyArray<string>,
): { values: OptionValues; positionals: Array<string> } => {
  const specs = { ...command.options, help: HELP }
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      {
        type: spec.type,
        ...(spec.short ? { short: spec.short } : {}),
        ...(spec.multiple ? { multiple: true } : {}),
      },
    ]),
  )
  const where = path.join(" ")
  let parsed: { values: OptionValues; positionals: Array<string> }
  try {
    parsed = parseArgs({
      args: withNegativeNumbers(argv, specs),
      options,
      allowPositionals: true,
      strict: true,
    }) as typeof parsed
    parsed.positionals = parsed.positionals.map(restoreNegative)
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code
    const message = cause instanceof Error ? cause.message : String(cause)
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? "?"
      const candidates = Object.keys(specs).map((n) => `--${n}`)
      throw new UsageError(
        `unknown option ${flag} for '${where}'${suggestionSuffix(flag, candidates, "")}`,
        path,
      )
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const flag = /--([A-Za-z-]+)/.exec(message)?.[0] ?? "option"
      // A value given that starts with "-" (`--since -10m`) is taken for a flag: say how to give it.
      const at = argv.findIndex(
        (a) =>
          a === flag ||
          a === `-${(specs as Readonly<Record<string, OptionSpec | undefined>>)[flag.slice(2)]?.short}`,
      )
      const next = at >= 0 ? argv[at + 1] : undefined
      const hint = next?.startsWith("-") ? ` (one that starts with "-" is written ${flag}=${next})` : ""
      throw new UsageError(`${flag} needs a value${hint}`, path)
    }
    throw new UsageError(message, path)
  }
  if (parsed.values.help === true) return parsed
  const { min, max } = command.positionals ?? { min: 0, max: 0 }
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument '${parsed.positionals[max]}' for '${where}'`, path)
  }
  if (parsed.positionals.length < min) {
    throw new UsageError(`'${where}' needs ${command.args ?? "more arguments"}`, path)
  }
  return parsed
}

export const stringOption = (values: OptionValues, name: string): string | undefined => {
  const v = values[name]
  return typeof v === "string" ? v : undefined
}

export const listOption = (values: OptionValues, name: string): Array<string> => {
  const v = values[name]
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : []
}

/**
 * A whole-number option within [min, max] (the API's own bounds, checked before any request):
 * `--limit must be a whole number from 1 to 1000, got '0'`.
 */
export const wholeNumberOption = (
  values: OptionValues,
  name: string,
  bounds: { readonly min: number; readonly max: number },
  path: ReadonlyArray<string>,
): number | undefined => {
  const text = stringOption(values, name)
  if (text === undefined) return undefined
  const n = /^-?\d{1,9}$/.test(text) ? Number(text) : Number.NaN
  if (!(n >= bounds.min && n <= bounds.max))
    throw new UsageError(
      `--${name} must be a whole number from ${bounds.min} to ${bounds.max}, got '${text}'`,
      path,
    )
  return n
}
