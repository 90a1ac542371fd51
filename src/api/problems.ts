// Every error the control API answers, as RFC 9457 problems (application/problem+json): typed
// classes the HttpApi declares per endpoint (so they are validated, documented in the OpenAPI
// document and decoded by the typed client), and `problemBody` for answers given before a
// request reaches the HttpApi (limits, routing) and `problemResponse` for SAM's own answers on
// plugin routes. One place maps runtime errors to them.
import { Schema } from "effect"
import { HttpServerResponse } from "effect/http"
import { HttpApiError } from "effect/http-api"
import { CapabilityError } from "../runtime/capabilities/capabilityRouter.ts"
import { PROBLEM_JSON, problemBody } from "./problemBody.ts"

const type = (name: string) => `urn:sam:problem:${name}` as const

export const ProblemIssue = Schema.Struct({
  path: Schema.Array(Schema.Union([Schema.String, Schema.Number])),
  message: Schema.String,
}).annotate({ identifier: "ProblemIssue" })

export class InvalidRequest extends HttpApiError.Problem<InvalidRequest>()(
  "InvalidRequest",
  { type: type("invalid-request"), status: 400, title: "Invalid request" },
  { errors: Schema.Array(ProblemIssue) },
) {}

export class Unauthorized extends HttpApiError.Problem<Unauthorized>()("Unauthorized", {
  type: type("unauthorized"),
  status: 401,
  title: "Unauthorized",
}) {}

export class Forbidden extends HttpApiError.Problem<Forbidden>()(
  "Forbidden",
  { type: type("forbidden"), status: 403, title: "Forbidden" },
  { role: Schema.String, required_role: Schema.String },
) {}

/** A cookie-authenticated change from another origin (CSRF): only bearer tokens work across origins. */
export class CrossSiteRefused extends HttpApiError.Problem<CrossSiteRefused>()("CrossSiteRefused", {
  type: type("cross-site"),
  status: 403,
  title: "Cross-site request refused",
}) {}

export class NotFound extends HttpApiError.Problem<NotFound>()(
  "NotFound",
  { type: type("not-found"), status: 404, title: "Not found" },
  { id: Schema.optionalKey(Schema.String) },
) {}

export class CommandConflict extends HttpApiError.Problem<CommandConflict>()(
  "CommandConflict",
  { type: type("command-refused"), status: 409, title: "Command refused in the current state" },
  { unit: Schema.String, command: Schema.String, state: Schema.String },
) {}

export class Unprocessable extends HttpApiError.Problem<Unprocessable>()("Unprocessable", {
  type: type("unprocessable"),
  status: 422,
  title: "Cannot do that",
}) {}

/** `POST /api/services/:id/scale` to a count outside 0..scaling.max_instances. */
export class ScaleOutOfRange extends HttpApiError.Problem<ScaleOutOfRange>()(
  "ScaleOutOfRange",
  { type: type("scale-out-of-range"), status: 422, title: "Instance count out of range" },
  { unit: Schema.String, instances: Schema.Number, min: Schema.Number, max: Schema.Number },
) {}

const capabilityFields = { capability: Schema.String, reason: Schema.String }

export class CapabilityNotFound extends HttpApiError.Problem<CapabilityNotFound>()(
  "CapabilityNotFound",
  { type: type("capability-not-found"), status: 404, title: "No such capability" },
  capabilityFields,
) {}

export class CapabilityBusy extends HttpApiError.Problem<CapabilityBusy>()(
  "CapabilityBusy",
  { type: type("capability-busy"), status: 429, title: "Capability busy" },
  capabilityFields,
) {}

export class CapabilityFailed extends HttpApiError.Problem<CapabilityFailed>()(
  "CapabilityFailed",
  { type: type("capability-failed"), status: 502, title: "Capability failed" },
  { ...capabilityFields, code: Schema.optionalKey(Schema.String) },
) {}

export class CapabilityUnavailable extends HttpApiError.Problem<CapabilityUnavailable>()(
  "CapabilityUnavailable",
  { type: type("capability-unavailable"), status: 503, title: "Capability unavailable" },
  capabilityFields,
) {}

export class CapabilityTimeout extends HttpApiError.Problem<CapabilityTimeout>()(
  "CapabilityTimeout",
  { type: type("capability-timeout"), status: 504, title: "Capability timed out" },
  capabilityFields,
) {}

/** A plugin that is known but serves no version now (failed, stopped, still loading). */
export class PluginUnavailable extends HttpApiError.Problem<PluginUnavailable>()(
  "PluginUnavailable",
  { type: type("plugin-unavailable"), status: 503, title: "Plugin not running" },
  { plugin: Schema.String, state: Schema.String },
) {}

/** A config reload found problems: nothing changed; `issues` lists every one. */
export class ConfigInvalid extends HttpApiError.Problem<ConfigInvalid>()(
  "ConfigInvalid",
  { type: type("config-invalid"), status: 422, title: "Invalid configuration" },
  { ok: Schema.Literal(false), issues: Schema.Array(Schema.Unknown) },
) {}

export class NotAvailable extends HttpApiError.Problem<NotAvailable>()("NotAvailable", {
  type: type("not-available"),
  status: 501,
  title: "Not available in this SAM",
}) {}

export const capabilityProblems = [
  CapabilityNotFound,
  CapabilityBusy,
  CapabilityFailed,
  CapabilityUnavailable,
  CapabilityTimeout,
] as const

export type CapabilityProblem =
  | CapabilityNotFound
  | CapabilityBusy
  | CapabilityFailed
  | CapabilityUnavailable
  | CapabilityTimeout

/** The problem answering a failed invocation. */
export const capabilityProblem = (error: unknown, capability: string): CapabilityProblem => {
  const failure =
    (error as { _tag?: unknown } | null)?._tag === "CapabilityError"
      ? (error as CapabilityError)
      : new CapabilityError({ capability, reason: "failed", message: String(error) })
  const fields = { capability, reason: failure.reason, detail: failure.message }
  switch (failure.reason) {
    case "not_found":
      return new CapabilityNotFound({
        ...fields,
        detail: `${failure.message}; GET /api/capabilities (sam capabilities) lists every capability`,
      })
    case "queue_full":
      return new CapabilityBusy({ ...fields, detail: `${failure.message}; retry shortly` })
    case "unavailable":
    case "cancelled":
      return new CapabilityUnavailable(fields)
    case "timeout":
      return new CapabilityTimeout({
        ...fields,
        // The agent's own limit is raised in its config; a longer request deadline would not help.
        detail: failure.agentLimit
          ? `${failure.message}; give it longer in the config if the agent needs it (its resources.timeout_seconds; a request's timeout_seconds or \`sam invoke --timeout\` cannot go past it)`
          : `${failure.message}; give it longer if the agent needs it (the request's timeout_seconds, \`sam invoke --timeout\`)`,
      })
    case "too_large":
    // The agent answered more than SAM holds for one call (capability.ts maxStreamBytes), or its
    // calls nested deeper than SAM routes (maxCallDepth): the agents' doing, as a failure is.
    case "too_deep":
      return new CapabilityFailed(fields)
    case "failed":
      return new CapabilityFailed(failure.code === undefined ? fields : { ...fields, code: failure.code })
  }
}

export { PROBLEM_JSON, problemBody }

/** A problem response for answers the HttpApi does not type (limits, routing, plugin routes). */
export const problemResponse = (
  status: number,
  detail: string,
  headers: Readonly<Record<string, string>> = {},
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.jsonUnsafe(problemBody(status, detail), { status, contentType: PROBLEM_JSON, headers })
