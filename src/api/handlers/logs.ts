// GET /api/services/:id/logs and GET /api/agents/:id/logs: a unit's output from `sam.logs`, as
// JSON ({ id, lines }) or, with follow=true or Accept: text/event-stream, as SSE (logStream.ts).
import { Effect, Stream } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { ApiContext } from "../apiContext.ts"
import { ControlApi } from "../controlApi.ts"
import { impossibleInstance } from "../instanceRange.ts"
import { logLineView } from "../logLineView.ts"
import { logQueryOf } from "../logQuery.ts"
import { logFrames } from "../logStream.ts"
import { InvalidRequest } from "../problems.ts"
import { credentialStillValid } from "../requestCredential.ts"
import type { LogQuery as LogQueryParams } from "../schemas.ts"
import { sseHeaders } from "./system.ts"
import { lookup, type UnitKindPath } from "./unitCommand.ts"

const acceptsEventStream = (accept: string | undefined) =>
  (accept ?? "").toLowerCase().includes("text/event-stream")

interface LogRequest {
  readonly params: { readonly id: string }
  readonly query: typeof LogQueryParams.Type
  readonly headers: { readonly "last-event-id"?: string }
  readonly request: { readonly headers: Readonly<Record<string, string | undefined>> }
}

export const logsLive = HttpApiBuilder.group(ControlApi, "logs", (handlers) =>
  Effect.gen(function* () {
    const context = yield* ApiContext
    const { sam } = context
    const answer = (kind: UnitKindPath) => (request: LogRequest) =>
      Effect.gen(function* () {
        const { id } = request.params
        yield* lookup(kind, id, () => (kind === "services" ? sam.services : sam.agents).status(id))
        // An instance number the unit can never run would only answer nothing: say which it has.
        const spec = sam.unitSpecs().find((u) => u.id === id)
        const impossible = impossibleInstance(spec, request.query.instance, ["query", "instance"])
        if (impossible) return yield* impossible
        const parsed = logQueryOf(request.query, Date.now())
        if ("issues" in parsed)
          return yield* new InvalidRequest({
            detail: parsed.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
            errors: parsed.issues.map((i) => ({ path: [...i.path], message: i.message })),
          })
        const { query } = parsed
        if (request.query.follow === "true" || acceptsEventStream(request.request.headers.accept)) {
          const frames = logFrames({
            logs: sam.logs,
            unit: id,
            query,
            lastEventId: request.headers["last-event-id"],
            heartbeatMs: context.heartbeatMs,
            shutdown: context.shutdown,
            stillAuthorized: credentialStillValid(context, yield* HttpServerRequest.HttpServerRequest),
          })
          return HttpServerResponse.stream(frames.pipe(Stream.encodeText), {
            contentType: "text/event-stream",
            headers: sseHeaders,
          })
        }
        // Taken before reading: every line up to it is in the answer (or filtered out), so a
        // follower resuming after it misses nothing (it may see a line twice: dedupe by seq).
        const last = sam.logs.lastSeq(id)
        const records = yield* Effect.promise(() => sam.logs.read(id, query))
        return {
          id,
          lines: records.map(logLineView),
          last_seq: Math.max(last, records.at(-1)?.seq ?? 0),
        }
      })
    return handlers.handleAll({
      service: answer("services"),
      agent: answer("agents"),
    })
  }),
)
