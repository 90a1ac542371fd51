// SAM as a user runs it: `sam start` of the compiled CLI (bin/sam.js → dist/bundle) on a generated
// sam.config.json, state dir and API (127.0.0.1, port 0) in a temp dir. --from-sources runs
// src/cli/main.ts instead (the harness's own test, without a build).
import { join } from "node:path"
import type { BenchContext } from "../harness/context.ts"
import { startDaemon } from "./daemonProcess.ts"
import { writeSamConfig } from "./samConfig.ts"
import type { SupervisorTool } from "./tool.ts"

export const samEntry = (context: BenchContext): string =>
  context.options.fromSources
    ? join(context.root, "src", "cli", "main.ts")
    : join(context.root, "bin", "sam.js")

export const samCli: SupervisorTool = {
  id: "sam",
  subject: "SAM (sam start)",
  start: async (services, context) => {
    const dir = context.tempDir("sam")
    const config = writeSamConfig(dir, services)
    return startDaemon("sam start", [samEntry(context), "start", "--config", config], dir, context)
  },
}
