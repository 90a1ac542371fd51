// Dispatches `sam <command> [<subcommand>] [options]` through the command table and maps failures to
// exit codes in one place: 0 ok, 1 failed, 2 usage error or invalid configuration. The command that
// runs is the only one loaded; `sam help [command]` prints the same help as `--help`.

import { readFileSync } from "node:fs"
import { suggestionSuffix } from "../config/suggest.ts"
import {
  type Command,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  formatHelp,
  parseCommandArgs,
  UsageError,
} from "./command.ts"
import { helpCommand, sam } from "./commands.ts"
import type { CliIo } from "./io.ts"
import { peerCommandHint } from "./peerCommands.ts"
import { shellLineHint } from "./shellLine.ts"

const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: string
  }
  return pkg.version ?? "unknown"
}

/**
 * Walks down subcommands; returns the command reached, its path and the remaining arguments.
 * A mistyped name gets a did-you-mean, never one that starts SAM (`sam stat` is not `start`);
 * one that holds a shell operator (`sam 'ps|grep web'`) is said to be a quoted shell line.
 */
const resolveCommand = (argv: ReadonlyArray<string>) => {
  let command: Command = sam
  const path = ["sam"]
  let rest = [...argv]
  while (command.subcommands !== undefined) {
    const next = rest[0]
    if (next === undefined || next.startsWith("-")) break
    const found = command.subcommands.find((c) => c.name === next)
    // A command that runs by itself takes a word that is none of its subcommands as an argument
    // (`sam crashes api` beside `sam crashes show 3`).
    if (found === undefined && command !== sam && (command.load !== undefined || command.run !== undefined))
      break
    if (found === undefined) {
      const names = command.subcommands.filter((c) => c.startsDaemon !== true).map((c) => c.name)
      const hint =
        shellLineHint(next, path.slice(1), names) ||
        (command === sam ? peerCommandHint(next) : "") ||
        suggestionSuffix(next, names, "'")
      throw new UsageError(`unknown command '${[...path.slice(1), next].join(" ")}'${hint}`, path)
    }
    command = found
    path.push(found.name)
    rest = rest.slice(1)
  }
  return { command, path, rest }
}

/** Runs the CLI on `argv` (without the node and script paths); resolves to the exit code. */
export const runCli = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  let path: ReadonlyArray<string> = ["sam"]
  try {
    const resolved = resolveCommand(argv)
    path = resolved.path
    const { command, rest } = resolved
    const { values, positionals } = parseCommandArgs(command, rest, path)
    if (values.help === true) {
      io.stdout(formatHelp(command, path))
      return EXIT_OK
    }
    if (command === helpCommand) {
      const target = resolveCommand(positionals)
      if (target.rest.length > 0)
        throw new UsageError(`'${target.path.join(" ")}' has no command '${target.rest[0]}'`, ["sam", "help"])
      io.stdout(formatHelp(target.command, target.path))
      return EXIT_OK
    }
    if (command === sam && values.version === true) {
      io.stdout(`${version()}\n`)
      return EXIT_OK
    }
    const run = command.run ?? (await command.load?.())
    if (run === undefined) {
      const what = path.length === 1 ? "missing command" : `'${path.slice(1).join(" ")}' needs a command`
      io.stderr(`sam: ${what}\n\n${formatHelp(command, path)}`)
      return EXIT_USAGE
    }
    return await run({ values, positionals, io })
  } catch (cause) {
    if (cause instanceof UsageError) {
      io.stderr(`sam: ${cause.message}\nRun '${cause.command.join(" ")} --help' for usage.\n`)
      return EXIT_USAGE
    }
    io.stderr(`sam: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`)
    return EXIT_FAILURE
  }
}
