// `sam audit verify` (described in commands.ts): check the hash chain of SAM's audit log
// (<state_dir>/audit.log, or --file) and name the first entry that was changed, removed or moved.
// Reads the file; SAM need not run.
import { access } from "node:fs/promises"
import { join } from "node:path"
import { type CommandRun, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, stringOption } from "./command.ts"
import { loadFromOptions } from "./configOptions.ts"

export const runVerify: CommandRun = async ({ values, io }) => {
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
}
