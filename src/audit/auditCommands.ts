// Records every lifecycle command run through a Sam (API, CLI via the API, embedding code) in the
// audit log, as the actor the command came with (the API's principal, else the embedding library).
import type { CommandRecord, Sam } from "../runtime/sam.ts"
import type { AuditRecord, AuditResult } from "./auditEntry.ts"
import type { AuditLog } from "./auditLog.ts"

const results: Record<CommandRecord["outcome"], AuditResult> = {
  ok: "ok",
  refused: "refused",
  not_found: "not_found",
  failed: "failed",
}

export const commandAuditRecord = (record: CommandRecord): AuditRecord => {
  const params: Record<string, unknown> = {}
  if (record.options.graceful !== undefined) params.graceful = record.options.graceful
  if (record.options.timeoutMs !== undefined) params.timeout_ms = record.options.timeoutMs
  return {
    actor: record.actor,
    action: `${record.kind ?? "unit"}.${record.command}`,
    target: record.unit,
    ...(Object.keys(params).length === 0 ? {} : { params }),
    result: results[record.outcome],
    ...(record.error === undefined ? {} : { detail: record.error }),
  }
}

/** Audit every lifecycle command of `sam` into `log`; returns the function that stops it. */
export const auditCommands = (sam: Pick<Sam, "onCommand">, log: AuditLog): (() => void) =>
  sam.onCommand((record) => log.append(commandAuditRecord(record)))
