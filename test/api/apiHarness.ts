// Test support for the control API: a Sam running real process services (and an agent), its API
// server on 127.0.0.1 port 0 with an audit log in a scratch directory, the typed client the CLI
// uses (src/api/controlClient.ts) per token, raw fetch helpers, and cleanup that closes
// everything and reports any process left alive.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { MonitoringBackend, PluginBackend } from "../../src/api/apiContext.ts"
import { type ApiServer, type ApiServerOptions, startApiServer } from "../../src/api/apiServer.ts"
import {
  ControlApiError,
  type ControlClient,
  controlClient,
  type Problem,
} from "../../src/api/controlClient.ts"
import { auditCommands } from "../../src/audit/auditCommands.ts"
import { AuditLog } from "../../src/audit/auditLog.ts"
import { Sam } from "../../src/runtime/sam.ts"
import type { UnitSpec } from "../../src/runtime/unitSpec.ts"
import { survivors } from "../support/runtime.ts"

export const tokens = {
  admin: { token: "admin-7f3c9a1e5b", role: "admin" },
  ops: { token: "ops-2d8e4b6c0f7a", role: "operator" },
  watcher: { token: "watch-5a1f7c3e9d", role: "viewer" },
} as const

export type TokenName = keyof typeof tokens

export interface ApiHarness {
  readonly sam: Sam
  readonly server: ApiServer
  readonly audit: AuditLog
  readonly dir: string
  readonly url: string
  /** fetch against the API with `token`'s bearer header (none for undefined). */
  fetch(path: string, init?: RequestInit & { as?: TokenName | undefined }): Promise<Response>
  /** The bearer token of `as` (undefined: none). */
  token(as: TokenName | undefined): string | undefined
  /** What the server reported as failing to answer (500s): must stay empty. */
  readonly errors: string[]
  /** Pids of every instance seen, for the leak check. */
  readonly pids: Set<number>
  close(): Promise<number[]>
}

/** Run `call` with the typed client for the API at `url`, as `token`. */
export const withClient = <A>(
  url: string,
  token: string | undefined,
  call: (client: ControlClient) => Promise<A>,
): Promise<A> => call(controlClient({ url, token }))

/** The problem a failing call answered, with its HTTP status (the test fails if the call succeeds). */
export const failureOf = async (
  url: string,
  token: string | undefined,
  call: (client: ControlClient) => Promise<unknown>,
): Promise<Problem & { readonly status: number }> => {
  try {
    await call(controlClient({ url, token }))
  } catch (error) {
    if (error instanceof ControlApiError && error.status !== undefined)
      return { ...error.problem, status: error.status }
    throw error
  }
  throw new Error("expected the call to fail, and it succeeded")
}

export const startApi = async (
  units: ReadonlyArray<UnitSpec>,
  options: Partial<Omit<ApiServerOptions, "sam" | "plugins" | "monitoring">> & {
    start?: boolean
    /** Monitoring of this Sam (src/metrics), closed before the Sam stops. */
    monitoring?: (sam: Sam) => MonitoringBackend & { close(): void }
    /** A plugin host for this Sam, started before the API serves (Sam's stop stops it). */
    plugins?: (sam: Sam) => Promise<PluginBackend>
  } = {},
): Promise<ApiHarness> => {
  const dir = mkdtempSync(join(tmpdir(), "sam-api-"))
  const sam = new Sam({ units, startTimeoutMs: 20_000 })
  const pids = new Set<number>()
  sam.events.subscribe((e) => {
    if (e.type === "transition" && typeof e.pid === "number") pids.add(e.pid)
  })
  const audit = await AuditLog.open(join(dir, "audit.log"))
  const offAudit = auditCommands(sam, audit)
  const { start, plugins, monitoring: monitoringOf, ...serverOptions } = options
  const backend = plugins === undefined ? undefined : await plugins(sam)
  const monitoring = monitoringOf?.(sam)
  const errors: string[] = []
  const server = await startApiServer({
    sam,
    port: 0,
    tokens,
    audit,
    stateDir: dir,
    heartbeatMs: 100,
    onError: (message) => errors.push(message),
    ...(backend === undefined ? {} : { plugins: backend }),
    ...(monitoring === undefined ? {} : { monitoring }),
    ...serverOptions,
  })
  if (start !== false) await sam.start()
  const tokenOf = (as: TokenName | undefined) => (as === undefined ? undefined : tokens[as].token)
  return {
    sam,
    server,
    audit,
    dir,
    url: server.url,
    pids,
    errors,
    token: tokenOf,
    fetch: (path, init = {}) => {
      const { as, headers, ...rest } = init
      const token = tokenOf(as)
      return fetch(`${server.url}${path}`, {
        ...rest,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(headers as Record<string, string>),
        },
      })
    },
    close: async () => {
      for (const unit of sam.status().units) for (const i of unit.instances) if (i.pid) pids.add(i.pid)
      monitoring?.close()
      await sam.stop({ timeoutMs: 1_000 })
      await server.close()
      offAudit()
      await audit.close()
      rmSync(dir, { recursive: true, force: true })
      return survivors(pids)
    },
  }
}

/** Read an SSE response until `until` holds for the frames so far; then cancel it. */
export const readEvents = async (
  response: Response,
  until: (frames: ReadonlyArray<SseFrame>, raw: string) => boolean,
): Promise<{ frames: SseFrame[]; raw: string }> => {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let raw = ""
  let frames: SseFrame[] = []
  while (true) {
    const { value, done } = await reader.read()
    if (done) break
    raw += decoder.decode(value, { stream: true })
    frames = parseFrames(raw)
    if (until(frames, raw)) break
  }
  await reader.cancel().catch(() => {})
  return { frames, raw }
}

export interface SseFrame {
  readonly id: string | undefined
  readonly event: string
  readonly data: Record<string, unknown>
}

/** Complete event frames of an SSE text (comments and retry lines skipped). */
export const parseFrames = (raw: string): SseFrame[] =>
  raw
    .split("\n\n")
    .slice(0, -1)
    .flatMap((block) => {
      const lines = block.split("\n")
      const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2)
      const data = field("data")
      if (data === undefined) return []
      return [
        {
          id: field("id"),
          event: field("event") ?? "message",
          data: JSON.parse(data) as Record<string, unknown>,
        },
      ]
    })
