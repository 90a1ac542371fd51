// Test support for the gateway: a Sam running real upstream processes (test/fixtures/
// gateway-upstream.mjs), its API server (and so the gateway) on 127.0.0.1 port 0, and cleanup
// that stops everything and reports any process left alive.
import { once } from "node:events"
import { createServer, type RequestListener, type Server } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { type ApiServer, type ApiServerOptions, startApiServer } from "../../src/api/apiServer.ts"
import { validateConfigObject } from "../../src/config/load.ts"
import type { Gateway } from "../../src/gateway/gateway.ts"
import { unitSpecsFromConfig } from "../../src/runtime/fromConfig.ts"
import { defaultGatewaySpec, type GatewaySpec } from "../../src/runtime/gatewaySpec.ts"
import { Sam } from "../../src/runtime/sam.ts"
import type { UnitSpec } from "../../src/runtime/unitSpec.ts"
import { httpCheck, nodeService, survivors } from "./runtime.ts"

/** Resolves once `condition` holds, checked every 10 ms; rejects after `ms`. */
export const eventually = async (condition: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> => {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] }

/** GatewaySpec defaults with some keys (and sub-keys) changed. */
export const gatewaySpec = (changes: DeepPartial<GatewaySpec> = {}): GatewaySpec => {
  const out: Record<string, unknown> = { ...defaultGatewaySpec }
  for (const [key, value] of Object.entries(changes)) {
    const base = (defaultGatewaySpec as unknown as Record<string, unknown>)[key]
    out[key] =
      typeof value === "object" && value !== null && !Array.isArray(value) && typeof base === "object"
        ? { ...(base as object), ...value }
        : value
  }
  return out as unknown as GatewaySpec
}

/** The harness's local admin token (what `sam start` writes to <state_dir>/token). */
export const LOCAL_TEST_TOKEN = "local-test-token-0123456789abcdef"

/** The upstream fixture as a service with a fast readiness check and gateway settings. */
export const upstream = (
  id: string,
  options: {
    instances?: number
    maxInstances?: number
    gateway?: DeepPartial<GatewaySpec>
    dependsOn?: string[]
  } = {},
): UnitSpec =>
  nodeService(id, "gateway-upstream.mjs", {
    instances: options.instances ?? 1,
    ...(options.maxInstances === undefined ? {} : { maxInstances: options.maxInstances }),
    dependsOn: options.dependsOn ?? [],
    probes: [httpCheck({ intervalMs: 100, failureThreshold: 1 })],
    gateway: gatewaySpec(options.gateway),
  })

/** An upstream served by the test itself on 127.0.0.1 (port 0): the story controls each answer. */
export interface LocalUpstream {
  readonly server: Server
  readonly port: number
  /** http://127.0.0.1:<port> */
  readonly origin: string
  /** Stop listening and cut every connection it still holds. */
  close(): Promise<void>
}

export const localUpstream = async (handler: RequestListener): Promise<LocalUpstream> => {
  const server = createServer(handler)
  // Upgraded sockets are no longer node:http's to close: every connection is cut by close().
  const sockets = new Set<Socket>()
  server.on("connection", (socket: Socket) => {
    sockets.add(socket)
    socket.once("close", () => sockets.delete(socket))
  })
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const { port } = server.address() as AddressInfo
  return {
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      if (!server.listening) return
      const closed = once(server, "close")
      server.close()
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}

/** A service at `url` (deployment mode external) with the `gateway` block a config gives it. */
export const externalService = (id: string, url: string, gateway: Record<string, unknown> = {}): UnitSpec[] =>
  unitSpecsFromConfig(
    validateConfigObject({ services: { [id]: { deployment: { mode: "external", url }, gateway } } }),
  ).units.slice()

export interface GatewayHarness {
  readonly sam: Sam
  readonly server: ApiServer
  readonly gateway: Gateway
  readonly url: string
  /** Pids of every instance seen. */
  readonly pids: Set<number>
  readonly errors: string[]
  /** Resolves once unit `id` runs `count` ready instances that are in the routing table. */
  routable(id: string, count: number): Promise<void>
  close(): Promise<number[]>
}

export const startGateway = async (
  units: ReadonlyArray<UnitSpec>,
  options: Partial<Omit<ApiServerOptions, "sam">> & { start?: boolean; usageIntervalMs?: number } = {},
): Promise<GatewayHarness> => {
  const { start, usageIntervalMs, ...serverOptions } = options
  const sam = new Sam({
    units,
    startTimeoutMs: 20_000,
    ...(usageIntervalMs === undefined ? {} : { usageIntervalMs }),
  })
  const pids = new Set<number>()
  sam.events.subscribe((e) => {
    if (e.type === "transition" && typeof e.pid === "number") pids.add(e.pid)
  })
  const errors: string[] = []
  const server = await startApiServer({
    sam,
    port: 0,
    onError: (m) => errors.push(m),
    // The control API always needs a credential; the gateway's own auth is what these tests try.
    localToken: LOCAL_TEST_TOKEN,
    ...serverOptions,
  })
  if (start !== false) await sam.start()
  const gateway = server.gateway as Gateway
  const routable = (id: string, count: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (gateway.routing().services.get(id)?.endpoints.length ?? 0) >= count
      if (check()) return resolve()
      const timer = setTimeout(() => {
        off()
        reject(new Error(`"${id}" did not get ${count} routable instances within 20 s`))
      }, 20_000)
      const off = sam.events.subscribe(() => {
        if (!check()) return
        clearTimeout(timer)
        off()
        resolve()
      })
    })
  return {
    sam,
    server,
    gateway,
    url: server.url,
    pids,
    errors,
    routable,
    close: async () => {
      for (const unit of sam.status().units) for (const i of unit.instances) if (i.pid) pids.add(i.pid)
      await sam.stop({ timeoutMs: 2_000 })
      await server.close()
      return survivors(pids)
    },
  }
}
