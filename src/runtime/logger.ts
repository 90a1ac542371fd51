// SAM's own structured log (pino, JSON lines) in <state_dir>/sam.log, fed from the event bus:
// transitions at info, supervisor decisions at warn (escalations at error). Units' output is not
// here: it has files of its own (logs/logFiles.ts). Rotated like them (rotatingFile.ts), written
// synchronously, so the last line before SAM dies is on disk.
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import pino from "pino"
import type { EventBus } from "./eventBus.ts"
import { RotatingFile, type RotationSettings } from "./logs/rotatingFile.ts"

export type Logger = pino.Logger

const unrotated: RotationSettings = { maxFileBytes: Number.POSITIVE_INFINITY, maxFiles: 0, compress: false }

export interface SamLog {
  readonly logger: Logger
  /** Close the file (later lines are dropped). */
  close(): Promise<void>
}

/** Open <state_dir>/sam.log at `level`, rotated by `rotation` (default: never). */
export const openSamLog = (
  stateDir: string,
  level: string,
  rotation: RotationSettings = unrotated,
  onError: (error: unknown) => void = (error) =>
    process.emitWarning(`SAM's log could not be rotated: ${String(error)}`, "SamLogWarning"),
): SamLog => {
  mkdirSync(stateDir, { recursive: true })
  const file = new RotatingFile(join(stateDir, "sam.log"), rotation, onError)
  let open = true
  const logger = pino(
    { level, base: { app: "sam" } },
    {
      write: (line: string) => {
        if (open) file.appendSync(line)
      },
    },
  )
  return {
    logger,
    close: () => {
      open = false
      return file.close()
    },
  }
}

/** Log every bus event; returns the unsubscribe function. */
export const logEvents = (bus: EventBus, logger: Logger): (() => void) =>
  bus.subscribe((event) => {
    switch (event.type) {
      case "transition":
        logger.info(
          { unit: event.unit, instance: event.instance, from: event.from, to: event.to, pid: event.pid },
          event.reason,
        )
        return
      case "supervisor":
        if (
          event.action === "escalation" ||
          event.action === "group-shutdown" ||
          event.action === "give-up"
        ) {
          logger.error({ action: event.action, unit: event.unit, group: event.group }, event.detail)
        } else logger.warn({ action: event.action, unit: event.unit, group: event.group }, event.detail)
        return
      case "health":
        logger.info(
          { unit: event.unit, instance: event.instance, ok: event.ok, probe: event.probe },
          event.detail,
        )
        return
      case "alert.firing":
      case "alert.webhook_failed":
        logger.warn(event, String(event.summary ?? event.detail ?? event.type))
        return
      // A plugin that failed or gave up is an error; a refused reload or a restart, a warning.
      case "plugin.failed":
      case "plugin.crashed":
        logger.error(event, String(event.error ?? event.detail ?? event.type))
        return
      case "plugin.reload-failed":
      case "plugin.restarting":
      case "plugin.warning":
      case "plugin.watch-failed":
        logger.warn(event, String(event.error ?? event.warning ?? event.type))
        return
      // A rejected config edit: SAM goes on with the previous config, which the operator must know.
      case "config.invalid":
        logger.warn(event, String(event.message ?? event.type))
        return
      default:
        logger.info(event, event.type)
    }
  })
