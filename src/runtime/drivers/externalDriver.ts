// A service SAM does not run but monitors and routes to (deployment.mode: external). It is
// "running" from SAM's point of view; its health checks decide whether it is ready.
import { Deferred, Effect } from "effect"
import { type Driver, DriverError, type ExitInfo, type InstanceHandle } from "./driver.ts"

export const externalDriver: Driver = {
  name: "external",
  start: (ctx) =>
    Effect.gen(function* () {
      const url = ctx.spec.externalUrl
      if (!url)
        return yield* new DriverError({ unit: ctx.spec.id, message: "external services need deployment.url" })
      const ended = yield* Deferred.make<ExitInfo>()
      const stopped = Effect.as(Deferred.succeed(ended, { code: 0, signal: null }), { code: 0, signal: null })
      const handle: InstanceHandle = {
        pid: undefined,
        port: Number(new URL(url).port) || undefined,
        url: url.replace(/\/+$/, ""),
        exited: Deferred.await(ended),
        stop: () => stopped,
        suspend: Effect.void,
        resume: Effect.void,
      }
      return handle
    }),
}
