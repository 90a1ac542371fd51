// `sam restart` of a service of several instances is rolling, as PM2's reload and a Kubernetes
// rollout are: one instance at a time, the next once this one is ready again, so the gateway
// always has an instance to send requests to.
import { afterEach, describe, expect, it } from "vitest"
import type { SamEvent } from "../../src/runtime/eventBus.ts"
import { eventually, type GatewayHarness, startGateway, upstream } from "../support/gateway.ts"

let h: GatewayHarness | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  expect(left ?? []).toEqual([])
})

describe("a rolling restart", () => {
  it("restarts one instance at a time, each after the one before is ready; the gateway answers all along", async () => {
    h = await startGateway([upstream("api", { instances: 3 })])
    await h.routable("api", 3)
    const before = h.sam.unitStatus("api").instances.map((i) => i.pid)
    const events: SamEvent[] = []
    const off = h.sam.events.subscribe((e) => {
      if (e.type === "transition" && e.unit === "api") events.push(e)
    })
    // Requests one after another for as long as the restart takes.
    let restarting = true
    const statuses: number[] = []
    const load = (async () => {
      while (restarting) statuses.push((await fetch(`${h!.url}/api/api/whoami`)).status)
    })()
    await h.sam.services.restart("api")
    await h.routable("api", 3)
    restarting = false
    await load
    off()
    const after = h.sam.unitStatus("api").instances.map((i) => i.pid)
    for (const [i, pid] of after.entries()) expect(pid).not.toBe(before[i])
    // Instance n+1 begins stopping only after instance n is ready again.
    const order = events
      .filter((e) => e.type === "transition" && (e.to === "stopping" || e.to === "running.ready"))
      .map((e) => (e.type === "transition" ? `${e.instance}:${e.to}` : ""))
    expect(order).toEqual([
      "0:stopping",
      "0:running.ready",
      "1:stopping",
      "1:running.ready",
      "2:stopping",
      "2:running.ready",
    ])
    expect(statuses.length).toBeGreaterThan(0)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
  })

  // The fixture closes every connection at once on SIGTERM: only SAM's drain saves a request.
  it("drains each instance before its SIGTERM: requests in flight on it are answered", async () => {
    h = await startGateway([upstream("api", { instances: 2, gateway: { balance: "round_robin" } })])
    await h.routable("api", 2)
    const slow = Array.from({ length: 4 }, () =>
      fetch(`${h!.url}/api/api/slow?ms=1000`).then(
        (r) => r.status,
        () => 0,
      ),
    )
    await eventually(() => h!.gateway.inFlight("api", 0) === 2 && h!.gateway.inFlight("api", 1) === 2)
    const restarted = h.sam.services.restart("api")
    // Out of the balancer while it drains: new requests go to the other instance.
    await eventually(() => h!.sam.unitStatus("api").instances[0]?.state === "stopping")
    expect((await fetch(`${h.url}/api/api/whoami`)).status).toBe(200)
    expect(await Promise.all(slow)).toEqual([200, 200, 200, 200])
    await restarted
    await h.routable("api", 2)
  })

  it("a stop drains too: requests in flight are answered before the service gets SIGTERM", async () => {
    h = await startGateway([upstream("api", { instances: 2 })])
    await h.routable("api", 2)
    const slow = [fetch(`${h.url}/api/api/slow?ms=800`), fetch(`${h.url}/api/api/slow?ms=800`)]
    await eventually(() => h!.gateway.inFlight("api", 0) + h!.gateway.inFlight("api", 1) === 2)
    const stopped = h.sam.services.stop("api")
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200])
    await stopped
    expect(h.sam.unitStatus("api").state).toBe("stopped")
  })

  it("a forced stop does not wait for the drain", async () => {
    h = await startGateway([upstream("api")])
    await h.routable("api", 1)
    const slow = fetch(`${h.url}/api/api/slow?ms=5000`).then(
      (r) => r.status,
      () => 0,
    )
    await eventually(() => h!.gateway.inFlight("api", 0) === 1)
    const began = Date.now()
    await h.sam.services.stop("api", { graceful: false })
    expect(Date.now() - began).toBeLessThan(2_000)
    expect(await slow).not.toBe(200)
  })
})
