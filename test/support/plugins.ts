// Test support for plugins and hot reload: temp project folders, SAM's control API serving a
// plugin host on 127.0.0.1, plain HTTP requests without keep-alive (so no client socket
// outlives a request), waiting on bus events, and counting active handles.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { startApiServer } from "../../src/api/apiServer.ts"
import type { PluginHost } from "../../src/plugins/index.ts"
import type { EventBus, SamEvent } from "../../src/runtime/eventBus.ts"
import type { Sam } from "../../src/runtime/sam.ts"

export interface TempProject {
  readonly dir: string
  path(...parts: string[]): string
  /** Write a file (creating folders) in one step, as an editor's atomic save does. */
  write(relative: string, content: string): string
  remove(): void
}

export const tempProject = (): TempProject => {
  const dir = mkdtempSync(join(tmpdir(), "sam-plugins-"))
  let saves = 0
  return {
    dir,
    path: (...parts) => join(dir, ...parts),
    write: (relative, content) => {
      const file = join(dir, relative)
      mkdirSync(dirname(file), { recursive: true })
      const temp = `${file}.${++saves}.tmp`
      writeFileSync(temp, content)
      renameSync(temp, file)
      return file
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

export interface TestServer {
  readonly url: string
  readonly server: Server
  /** Resolves once every connection the server accepted has closed. */
  idle(): Promise<void>
  close(): Promise<void>
}

/** An HTTP server on 127.0.0.1:0 whose connections are tracked. */
export const listen = async (
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> => {
  const server = createServer(handler)
  const sockets = new Set<Socket>()
  let onIdle: Array<() => void> = []
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => {
      sockets.delete(socket)
      if (sockets.size === 0) {
        for (const wake of onIdle) wake()
        onIdle = []
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    idle: () => (sockets.size === 0 ? Promise.resolve() : new Promise((resolve) => onIdle.push(resolve))),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** The admin token of serveApi's servers; `http` sends it with every request. */
export const testApiToken = "plugins-test-admin-token-5e8c1a"

/** The control API (loopback, port 0, admin token testApiToken) for `sam` with `host`'s plugins and routes. */
export const serveApi = async (
  sam: Sam,
  host: PluginHost,
): Promise<{ url: string; close(): Promise<void> }> =>
  startApiServer({ sam, plugins: host, port: 0, shutdownGraceMs: 1_000, localToken: testApiToken })

export interface HttpResult {
  readonly status: number
  readonly body: unknown
}

/** One request on a fresh connection that is closed afterwards (with serveApi's token). */
export const http = (url: string, options: { method?: string; body?: unknown } = {}): Promise<HttpResult> =>
  new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        agent: false,
        headers: {
          connection: "close",
          authorization: `Bearer ${testApiToken}`,
          ...(payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          let body: unknown = text
          try {
            body = text === "" ? undefined : JSON.parse(text)
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body })
        })
        res.on("error", reject)
      },
    )
    req.on("error", reject)
    req.end(payload)
  })

export interface EventLog {
  readonly events: SamEvent[]
  /** The first matching event seen since the log was made, or the next one to come. */
  next(predicate: (e: SamEvent) => boolean): Promise<SamEvent>
  /** The next matching event published after this call. */
  upcoming(predicate: (e: SamEvent) => boolean): Promise<SamEvent>
  of(type: string): SamEvent[]
  stop(): void
}

export const eventLog = (bus: EventBus): EventLog => {
  const events: SamEvent[] = []
  const waiters = new Set<{ predicate: (e: SamEvent) => boolean; resolve: (e: SamEvent) => void }>()
  const off = bus.subscribe((e) => {
    events.push(e)
    for (const w of [...waiters])
      if (w.predicate(e)) {
        waiters.delete(w)
        w.resolve(e)
      }
  })
  const upcoming = (predicate: (e: SamEvent) => boolean) =>
    new Promise<SamEvent>((resolve) => waiters.add({ predicate, resolve }))
  return {
    events,
    next: (predicate) => {
      const seen = events.find(predicate)
      return seen ? Promise.resolve(seen) : upcoming(predicate)
    },
    upcoming,
    of: (type) => events.filter((e) => e.type === type),
    stop: off,
  }
}

/** Active handles by type ("Timeout", "TCPSocketWrap", "FSEventWrap", ...). */
export const activeResources = (): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1)
  return counts
}

/** Handle types with more entries in `after` than in `before`. */
export const leakedResources = (
  before: Map<string, number>,
  after: Map<string, number>,
): Record<string, number> => {
  const leaked: Record<string, number> = {}
  for (const [type, n] of after) if (n > (before.get(type) ?? 0)) leaked[type] = n - (before.get(type) ?? 0)
  return leaked
}
