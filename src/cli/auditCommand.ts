// `sam audit verify` (described in commands.ts): check the hash chain of SAM's audit log
// (<state_dir>/audit.log and its rotated files, or --file) against the runtime store's newest
// checkpoint beside it, and name the first entry that was changed, removed or moved. Reads the
// files and state.db read-only; SAM need not run, and may.
import { existsSync } from "node:fs"
import { join, resolve } from "node:path"
import { DEFAULT_CONFIG_FILE, DEFAULT_STATE_DIR } from "../config/constants.ts"
import { type CommandRun, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, stringOption } from "./command.ts"
import { loadFromOptions } from "./configOptions.ts"

/**
 * Without --config and with no sam.config.ts here, the state dir the client commands would find
 * (SAM_STATE_DIR, else ./.sam) when it holds SAM's files: a SAM started with `--config sam.yaml`.
 */
const stateDirHere = (io: Parameters<CommandRun>[0]["io"], values: Parameters<CommandRun>[0]["values"]) => {
  if (stringOption(values, "config") !== undefined) return undefined
  const named = io.env.SAM_STATE_DIR
  if (named !== undefined && named !== "") return resolve(io.cwd, named)
  if (existsSync(join(io.cwd, DEFAULT_CONFIG_FILE))) return undefined
  const beside = join(io.cwd, DEFAULT_STATE_DIR)
  return existsSync(join(beside, "audit.log")) || existsSync(join(beside, "state.db")) ? beside : undefined
}

export const runVerify: CommandRun = async ({ values, io }) => {
  let file = stringOption(values, "file")
  const here = file === undefined ? stateDirHere(io, values) : undefined
  if (here !== undefined) file = join(here, "audit.log")
  if (file === undefined) {
    const loaded = await loadFromOptions(io, values, { secrets: "lenient" })
    if (loaded === undefined) return EXIT_USAGE
    file = join(loaded.config.runtime.state_dir, "audit.log")
  }
  const { auditFiles, stateDbBeside } = await import("../audit/auditFiles.ts")
  const { readLatestAuditCheckpoint } = await import("../runtime/store/auditCheckpoints.ts")
  const checkpoint = readLatestAuditCheckpoint(stateDbBeside(file))
  if (auditFiles(file).length === 0 && checkpoint === undefined) {
    io.stderr(
      `sam: no audit log at ${file}: SAM writes it on the first lifecycle command; pass --file <path> to check another\n`,
    )
    return EXIT_FAILURE
  }
  const { verifyAuditLog } = await import("../audit/verifyAudit.ts")
  const result = await verifyAuditLog(file, { checkpoint: checkpoint ?? null })
  if (result.ok) {
    const anchored = result.checkpoint
      ? `; matches the runtime store's checkpoint #${result.checkpoint.seq} of ${result.checkpoint.at}`
      : ""
    io.stdout(
      `${file}: ${result.entries} entries, chain intact (last #${result.head.seq} ${result.head.hash.slice(0, 12)})${anchored}\n`,
    )
    return EXIT_OK
  }
  io.stderr(
    `sam: ${result.file ?? file}:${result.line}: ${result.reason}\n` +
      (result.rewritten
        ? "Its chain was recomputed, so its hashes prove nothing: no entry of it can be trusted.\n"
        : `The ${result.entries} entries before that are intact; everything from there on cannot be trusted.\n`),
  )
  return EXIT_FAILURE
}
