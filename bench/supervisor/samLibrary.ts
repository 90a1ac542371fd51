// SAM embedded as a library: a small Node script (fixtures/embeddedSam.mjs) imports the package's
// compiled entry (dist/index.js; src/index.ts with --from-sources) and runs createSam + start on
// the same config as the CLI. No control API: that is the daemon's.
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { startDaemon } from "./daemonProcess.ts"
import { writeSamConfig } from "./samConfig.ts"
import type { SupervisorTool } from "./tool.ts"

export const samLibrary: SupervisorTool = {
  id: "sam-lib",
  subject: "SAM embedded (createSam)",
  start: async (services, context) => {
    const dir = context.tempDir("sam-lib")
    const config = writeSamConfig(dir, services)
    const library = join(context.root, context.options.fromSources ? "src/index.ts" : "dist/index.js")
    const script = join(context.root, "bench", "fixtures", "embeddedSam.mjs")
    return startDaemon("embedded SAM", [script, pathToFileURL(library).href, config], dir, context)
  },
}
