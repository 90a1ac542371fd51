import { describe, expect, it } from "vitest"
import { crossChecks } from "../../src/config/crossChecks.ts"
import { validateConfigObject } from "../../src/config/load.ts"
import { serviceSpec } from "../../src/runtime/fromConfig.ts"
import { defaultGatewaySpec } from "../../src/runtime/gatewaySpec.ts"

const external = { mode: "external", url: "http://127.0.0.1:1" } as const

describe("the gateway's config keys", () => {
  it("a service without a gateway block gets the defaults, the same as the runtime's", () => {
    const config = validateConfigObject({ services: { api: { deployment: external } } })
    expect(serviceSpec("api", config.services.api!).gateway).toEqual(defaultGatewaySpec)
  })

  it("every key decodes into the runtime's GatewaySpec (seconds become milliseconds)", () => {
    const config = validateConfigObject({
      services: {
        api: {
          deployment: external,
          scaling: { min_instances: 0, idle_seconds: 300 },
          gateway: {
            enabled: true,
            strip_prefix: false,
            balance: "hash",
            hash: { header: "X-User", cookie: "session" },
            slow_start_seconds: 10,
            outlier: {
              consecutive_failures: 3,
              base_ejection_seconds: 5,
              max_ejection_percent: 30,
              panic_threshold_percent: 20,
            },
            timeouts: { connect_ms: 100, ttfb_ms: 200, idle_ms: 0, start_ms: 30_000 },
            retries: { attempts: 3, budget_percent: 10, backoff_ms: 5 },
            breaker: {
              enabled: true,
              window_seconds: 20,
              min_requests: 10,
              failure_percent: 40,
              slow_call_ms: 500,
              slow_call_percent: 60,
              open_seconds: 2,
              half_open_requests: 1,
            },
            max_in_flight: 50,
            max_body_bytes: 1024,
            rate_limit: { requests_per_second: 5 },
            cache: { enabled: true, max_entries: 10, max_bytes: 4096 },
            auth: "token",
            forward_auth: true,
            browser_isolation: false,
          },
        },
      },
    })
    const spec = serviceSpec("api", config.services.api!)
    expect(spec.instances).toBe(0)
    // A service started on demand may run one instance.
    expect(spec.maxInstances).toBe(1)
    expect(spec.gateway).toEqual({
      enabled: true,
      stripPrefix: false,
      balance: "hash",
      hash: { header: "x-user", cookie: "session" },
      weights: [],
      slowStartMs: 10_000,
      outlier: {
        consecutiveFailures: 3,
        baseEjectionMs: 5_000,
        maxEjectionPercent: 30,
        panicThresholdPercent: 20,
      },
      timeouts: { connectMs: 100, ttfbMs: 200, idleMs: 0, startMs: 30_000 },
      retries: { attempts: 3, budgetPercent: 10, backoffMs: 5 },
      breaker: {
        enabled: true,
        windowMs: 20_000,
        minRequests: 10,
        failurePercent: 40,
        slowCallMs: 500,
        slowCallPercent: 60,
        openMs: 2_000,
        halfOpenRequests: 1,
      },
      maxInFlight: 50,
      maxBodyBytes: 1024,
      rateLimit: { requestsPerSecond: 5, burst: 5, key: "ip" },
      cache: { enabled: true, maxEntries: 10, maxBytes: 4096 },
      auth: "token",
      forwardAuth: true,
      browserIsolation: false,
      idleMs: 300_000,
    })
  })

  it("warns about keys that have no effect where they are", () => {
    const { warnings } = crossChecks({
      services: {
        api: {
          deployment: external,
          scaling: { min_instances: 1, idle_seconds: 60 },
          gateway: { weights: [2, 1], hash: { header: "x" } },
        },
      },
    })
    expect(warnings).toEqual([
      "services.api.scaling.idle_seconds: has no effect unless min_instances is 0 (a service started on demand)",
      'services.api.gateway.weights: has no effect unless balance is "weighted"',
      'services.api.gateway.hash: has no effect unless balance is "hash"',
    ])
  })

  it("refuses a unit id the control API uses, crashes included", () => {
    const { issues } = crossChecks({ services: { crashes: { deployment: external } } })
    expect(issues.map((i) => i.message)).toEqual([
      'id "crashes" is reserved by the control API (/crashes); choose another id',
    ])
  })
})
