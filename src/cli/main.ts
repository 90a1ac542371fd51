// Entry point of the `sam` executable (bin/sam.js imports this file): runs the CLI on this
// process's arguments and sets the exit code. The commands live in commands.ts.

import { processIo } from "./io.ts"
import { runCli } from "./run.ts"

process.exitCode = await runCli(process.argv.slice(2), processIo())
