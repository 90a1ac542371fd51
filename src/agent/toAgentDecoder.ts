// The agent side's check of what SAM sends (protocol.ts's ToAgent), written out by hand so that an
// agent process loads no `effect`: importing effect/Schema alone costs an idle agent megabytes
// (bench/RESULTS.md, "Findings"). SAM's side keeps the Schemas; test/agents/protocol.test.ts holds
// this decoder to the ToAgent Schema's verdicts and output.
import { capabilityErrorReasons } from "./capabilityError.ts"
import type { ToAgent } from "./protocol.ts"

export type Decoded<A> =
  | { readonly ok: true; readonly message: A }
  | { readonly ok: false; readonly error: string }

/** A short, bounded rendering of a rejected message for logs. */
export const preview = (raw: unknown): string => {
  let text: string
  try {
    text = JSON.stringify(raw) ?? String(raw)
  } catch {
    text = String(raw)
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

/** A field's kind, or the strings it may be (a Schema.Literals). */
type Kind = "string" | "number" | "record" | "strings" | "unknown" | ReadonlyArray<string>
/** A field: its kind, and whether the key may be absent. */
type Field = readonly [Kind, "required" | "optional"]

const shapes: Readonly<Record<ToAgent["type"], Readonly<Record<string, Field>>>> = {
  init: {
    unit: ["string", "required"],
    instance: ["number", "required"],
    path: ["string", "required"],
    config: ["record", "required"],
    heartbeatIntervalMs: ["number", "required"],
    dataDir: ["string", "required"],
    persona: ["string", "optional"],
  },
  invoke: {
    id: ["string", "required"],
    capability: ["string", "required"],
    input: ["unknown", "required"],
    chain: ["strings", "optional"],
    deadline: ["number", "optional"],
  },
  cancel: { id: ["string", "required"] },
  "call-result": {
    id: ["string", "required"],
    output: ["unknown", "optional"],
    error: ["string", "optional"],
    reason: [capabilityErrorReasons, "optional"],
    code: ["string", "optional"],
    agent: ["string", "optional"],
  },
  "call-chunk": { id: ["string", "required"], chunk: ["unknown", "required"] },
  shutdown: {},
}
const types = Object.keys(shapes)

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const fits = (kind: Kind, value: unknown): boolean =>
  typeof kind !== "string"
    ? typeof value === "string" && kind.includes(value)
    : kind === "unknown"
      ? true
      : kind === "record"
        ? isRecord(value)
        : kind === "strings"
          ? Array.isArray(value) && value.every((item) => typeof item === "string")
          : typeof value === kind

const expected = (kind: Kind): string =>
  typeof kind !== "string"
    ? kind.map((literal) => JSON.stringify(literal)).join(" | ")
    : kind === "record"
      ? "object"
      : kind === "strings"
        ? "array of strings"
        : kind

/** Validate a message an agent received from SAM: the message with its known keys, or what is wrong. */
export const decodeToAgentMessage = (raw: unknown): Decoded<ToAgent> => {
  const type = isRecord(raw) ? raw.type : undefined
  if (typeof type !== "string" || !Object.hasOwn(shapes, type)) {
    return {
      ok: false,
      error: `not a protocol message (type ${preview(type)}; expected ${types.join(", ")})`,
    }
  }
  const message = raw as Record<string, unknown>
  const out: Record<string, unknown> = { type }
  for (const [key, [kind, presence]] of Object.entries(shapes[type as ToAgent["type"]])) {
    if (!Object.hasOwn(message, key)) {
      if (presence === "optional") continue
      return { ok: false, error: `invalid "${type}" message: Missing key at ["${key}"]` }
    }
    const value = message[key]
    if (!fits(kind, value))
      return {
        ok: false,
        error: `invalid "${type}" message: Expected ${expected(kind)}, got ${preview(value)} at ["${key}"]`,
      }
    out[key] = value
  }
  return { ok: true, message: out as ToAgent }
}
