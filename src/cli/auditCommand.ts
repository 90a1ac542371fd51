// `sam audit verify`: check the hash chain of SAM's audit log (<state_dir>/audit.log, or --file)
// and name the first entry that was changed, removed or moved. Reads the file; SAM need not run.
import { access } from "node:fs/promises"
import { join } from "node:path"
import { type Command, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, stringOption } from "./command.ts"
import { configOption, loadFromOptions } from "./configOptions.ts"

const verifyCommand: Command = {
  name: "verify",
  summary: "Check that no audit entry was changed, removed or reordered",
  description:
    "Check the audit log's hash chain: every entry holds the hash of the one before it, so a changed,\n" +
    "removed or reordered entry breaks the chain at that line (exit 1, naming it). Exit 0 when intact.",
  options: {
    file: {
      type: "string",
      placeholder: "path",
      description: "Audit log to check (default <state_dir>/audit.log)",
    },
    config: configOption,
  },
  run: async ({ values, io }) => {
    let file = stringOption(values, "file")
    if (file === undefined) {
      const loaded = await loadFromOptions(io, values, { secrets: "lenient" })
      if (loaded === undefined) return EXIT_USAGE
      file = join(loaded.config.runtime.state_dir, "audit.log")
    }
    try {
      await access(file)
    } catch {
      io.stderr(
        `sam: no audit log at ${file}: SAM writes it on the first lifecycle command; pass --file <path> to check another\n`,
      )
      return EXIT_FAILURE
    }
    const { verifyAuditLog } = await import("../audit/verifyAudit.ts")
    const result = await verifyAuditLog(file)
    if (result.ok) {
      io.stdout(
        `${file}: ${result.entries} entries, chain intact (last #${result.head.seq} ${result.head.hash.slice(0, 12)})\n`,
      )
      return EXIT_OK
    }
    io.stderr(
      `sam: ${file}:${result.line}: ${result.reason}\n` +
        `The ${result.entries} entries before line ${result.line} are intact; everything from there on cannot be trusted.\n`,
    )
    return EXIT_FAILURE
  },
}

export const auditCommand: Command = {
  name: "audit",
  summary: "Check SAM's audit log",
  description: "SAM records every lifecycle command and every mutating API call in a hash-chained audit log.",
  subcommands: [verifyCommand],
}
