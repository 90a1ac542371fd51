// The command table of `sam`. Add a command by writing <name>Command.ts and listing it here
// (status, ps, events, invoke, reload and audit arrive with the control API).

import type { Command } from "./command.ts"
import { configCommand } from "./configCommand.ts"
import { schemaCommand } from "./schemaCommand.ts"
import { secretsCommand } from "./secretsCommand.ts"
import { startCommand } from "./startCommand.ts"
import { validateCommand } from "./validateCommand.ts"

export const sam: Command = {
  name: "sam",
  summary: "SAM, the Service and Agent Manager",
  description:
    "SAM, the Service and Agent Manager: runs and supervises AI agents and the services they need,\n" +
    "from one typed, layered configuration (sam.config.ts).",
  options: { version: { type: "boolean", short: "v", description: "Print the version" } },
  subcommands: [startCommand, validateCommand, configCommand, schemaCommand, secretsCommand],
}
