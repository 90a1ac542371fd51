// The command table of `sam`. Add a command by writing <name>Command.ts and listing it here.
// status, ps, the lifecycle commands, events, logs, crashes, invoke and reload talk to a running
// SAM's control API.

import { auditCommand } from "./auditCommand.ts"
import type { Command } from "./command.ts"
import { configCommand } from "./configCommand.ts"
import { crashesCommand } from "./crashesCommand.ts"
import { eventsCommand } from "./eventsCommand.ts"
import { invokeCommand } from "./invokeCommand.ts"
import { restartCommand, resumeCommand, stopCommand, suspendCommand } from "./lifecycleCommands.ts"
import { logsCommand } from "./logsCommand.ts"
import { reloadCommand } from "./reloadCommand.ts"
import { schemaCommand } from "./schemaCommand.ts"
import { secretsCommand } from "./secretsCommand.ts"
import { startCommand } from "./startCommand.ts"
import { psCommand, statusCommand } from "./statusCommand.ts"
import { validateCommand } from "./validateCommand.ts"

export const sam: Command = {
  name: "sam",
  summary: "SAM, the Service and Agent Manager",
  description:
    "SAM, the Service and Agent Manager: runs and supervises AI agents and the services they need,\n" +
    "from one typed, layered configuration (sam.config.ts).",
  options: { version: { type: "boolean", short: "v", description: "Print the version" } },
  subcommands: [
    startCommand,
    validateCommand,
    configCommand,
    schemaCommand,
    secretsCommand,
    statusCommand,
    psCommand,
    stopCommand,
    restartCommand,
    suspendCommand,
    resumeCommand,
    eventsCommand,
    logsCommand,
    crashesCommand,
    invokeCommand,
    reloadCommand,
    auditCommand,
  ],
}
