// Entry point of the `sam` executable (bin/sam.js imports this file): runs the CLI on this
// process's arguments and sets the exit code. The commands live in commands.ts.

import { processIo } from "./io.ts"
import { runCli } from "./run.ts"

// A reader that goes away (`sam ps | head -1`, a closed terminal) breaks stdout or stderr. A client
// command has no one left to tell and ends there; the daemon (`sam start`) carries on, its units
// untouched, with its log file (<state_dir>/sam.log) still written. Without a listener Node would
// throw the EPIPE and end SAM.
const daemon = process.argv[2] === "start"
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (!daemon && stream === process.stdout && error.code === "EPIPE") process.exit(process.exitCode ?? 0)
  })

process.exitCode = await runCli(process.argv.slice(2), processIo())
