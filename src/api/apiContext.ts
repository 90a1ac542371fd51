// What the control API's handlers and middleware work with, as one Effect service provided by the
// server (apiServer.ts): the Sam they control, the plugin host whose routes it serves, the audit
// log, the authenticator, the browser sessions and the settings.
import { Context } from "effect"
import type { AuditActor, AuditRecord } from "../audit/auditEntry.ts"
import type { AuditLog } from "../audit/auditLog.ts"
import type { BreakerView } from "../gateway/circuitBreaker.ts"
import type { Monitoring } from "../metrics/monitoring.ts"
import type { GatewayRegistry } from "../plugins/gatewayRegistry.ts"
import type { CompiledRoute } from "../plugins/routeTable.ts"
import type { PluginRouteHandler, PluginStatus } from "../plugins/types.ts"
import type { Sam } from "../runtime/sam.ts"
import type { CrashReportsTable } from "../runtime/store/crashReports.ts"
import type { ApiPrincipal, Authenticator } from "./auth.ts"
import type { ProcessUsage } from "./resources.ts"
import type { SessionStore } from "./sessions.ts"

/** The version of a plugin serving its routes now. */
export interface LivePlugin {
  readonly name: string
  /** Its route table as of now (immutable; a hot reload swaps in another instance). */
  readonly routes: ReadonlyArray<CompiledRoute<PluginRouteHandler>>
  /** Count a request in flight on this version until the returned function is called. */
  enter(): () => void
}

/** What the API needs of the plugin host (PluginHost implements it). */
export interface PluginBackend {
  list(): ReadonlyArray<PluginStatus>
  liveInstance(name: string): LivePlugin | undefined
  /** Plugins' gateway routes and middleware, served under /api/<prefix> by the gateway. */
  readonly gateway?: GatewayRegistry
  /** Runs a config reload; undefined when SAM runs without a config file. */
  readonly reloadConfig: (() => Promise<{ readonly ok: boolean }>) | undefined
}

/** What the API serves of SAM's monitoring (src/metrics/monitoring.ts). */
export type MonitoringBackend = Pick<
  Monitoring,
  "settings" | "scrape" | "unitMetrics" | "requestRate" | "alerts" | "watchdog"
>

/** What the API shows of the gateway (src/gateway/gateway.ts implements it). */
export interface GatewayBackend {
  /** Service `id`'s breaker (undefined: disabled); undefined when the gateway does not route it. */
  serviceGateway(id: string): { readonly breaker: BreakerView | undefined } | undefined
}

export interface ApiContextShape {
  readonly sam: Sam
  /** The plugin host, when SAM runs one: `/api/plugins...` and `/api/config/reload` are its. */
  readonly plugins: PluginBackend | undefined
  readonly audit: AuditLog | undefined
  /** The store's crash reports (undefined: a SAM without a runtime store). */
  readonly crashReports: Pick<CrashReportsTable, "list" | "get"> | undefined
  /** Metrics, unit history, alerts and the watchdog (undefined: a SAM run without monitoring). */
  readonly monitoring: MonitoringBackend | undefined
  /** The gateway on the API's port (undefined: a server without one). */
  readonly gateway: GatewayBackend | undefined
  readonly authenticator: Authenticator
  /** Browser sessions signed in with the login link (their cookie authenticates like a token). */
  readonly sessions: SessionStore
  /** The port the server listens on (known once it listens; names the session cookie). */
  readonly port: () => number
  readonly usage: ProcessUsage
  /** Aborted when the server closes (ends event streams). */
  readonly shutdown: AbortSignal
  /** Stop SAM as a whole (`sam start` passes it; embedded, there is none). */
  readonly requestShutdown: ((by: string) => void) | undefined
  readonly heartbeatMs: number
  readonly stateDir: string
  readonly version: string
  /** Default deadline of an invocation without timeout_seconds. */
  readonly invokeTimeoutMs: number
}

export class ApiContext extends Context.Service<ApiContext, ApiContextShape>()("sam/api/ApiContext") {}

export const apiActor = (principal: ApiPrincipal): AuditActor => ({
  name: principal.name,
  role: principal.role,
  via: "api",
})

/** Append to the audit log (if any) and wait until it is written, so the answer follows the record. */
export const auditNow = async (context: ApiContextShape, record: AuditRecord): Promise<void> => {
  if (!context.audit) return
  context.audit.append(record)
  await context.audit.settled()
}
