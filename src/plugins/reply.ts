// `reply(status, body)`: how a plugin's control-API route answers with a status other than 200.
// Branded, so a handler returning a plain object that happens to have a `status` field is still
// sent as JSON with 200.

const REPLY = Symbol.for("sam.plugin.reply")

export interface PluginReply {
  readonly [REPLY]: true
  readonly status: number
  readonly body: unknown
  readonly headers: Readonly<Record<string, string>>
}

/**
 * An explicit control-API response.
 *
 * @example
 * ```ts
 * ctx.api.post("/items", ({ body }) => reply(201, { created: body }))
 * ```
 * @category plugins
 */
export const reply = (status: number, body?: unknown, headers: Record<string, string> = {}): PluginReply => ({
  [REPLY]: true,
  status,
  body,
  headers,
})

export const isReply = (value: unknown): value is PluginReply =>
  typeof value === "object" && value !== null && REPLY in value
