// SAM's own structured log (pino, JSON lines) in <state_dir>/sam.log, fed from the event bus:
// transitions at info, supervisor decisions at warn (escalations at error), unit output at debug.
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import pino from "pino"
import type { EventBus } from "./eventBus.ts"

export type Logger = pino.Logger

export const createLogger = (stateDir: string, level: string): Logger => {
  mkdirSync(stateDir, { recursive: true })
  return pino(
    { level, base: { app: "sam" } },
    pino.destination({ dest: join(stateDir, "sam.log"), sync: true }),
  )
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
      case "log":
        logger.debug({ unit: event.unit, instance: event.instance, stream: event.stream }, event.line)
        return
      default:
        logger.info(event, event.type)
    }
  })
