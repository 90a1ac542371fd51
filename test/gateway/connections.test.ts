import { request } from "node:http"
import { afterEach, describe, expect, it } from "vitest"
import {
  externalService,
  type GatewayHarness,
  type LocalUpstream,
  localUpstream,
  startGateway,
} from "../support/gateway.ts"

// The gateway's pool to an instance has no cap of its own: max_in_flight, at admission, is the
// bound of requests (and so connections) in flight. A cap of 128 used to queue the 129th request
// inside undici, unseen by max_in_flight and, until it got a connection, by ttfb_ms.

let h: GatewayHarness | undefined
let local: LocalUpstream | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  await local?.close()
  local = undefined
  expect(left ?? []).toEqual([])
})

/** GET `url` on a connection of its own; its status. */
const get = (url: string) =>
  new Promise<number>((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode as number))
    })
    req.on("error", reject)
    req.end()
  })

describe("connections to an instance", () => {
  it("200 requests in flight to one instance all reach it at once (max_in_flight is the bound)", async () => {
    const count = 200
    // The service answers none until all of them have arrived.
    const held: Array<() => void> = []
    let allArrived: () => void = () => {}
    const arrived = new Promise<void>((resolve) => {
      allArrived = resolve
    })
    local = await localUpstream((_req, res) => {
      held.push(() => res.writeHead(200, { "content-type": "text/plain" }).end("ok"))
      if (held.length === count) allArrived()
    })
    local.server.maxConnections = count + 10
    h = await startGateway(externalService("wide", local.origin))
    await h.routable("wide", 1)
    const answers = Promise.all(Array.from({ length: count }, () => get(`${h!.url}/api/wide/x`)))
    let shortfall: NodeJS.Timeout | undefined
    await Promise.race([
      arrived,
      new Promise((_resolve, reject) => {
        shortfall = setTimeout(
          () => reject(new Error(`only ${held.length} of ${count} requests reached the service`)),
          10_000,
        )
      }),
    ]).finally(() => clearTimeout(shortfall))
    expect(h.gateway.inFlight("wide", 0)).toBe(count)
    for (const answer of held) answer()
    expect(new Set(await answers)).toEqual(new Set([200]))
  })
})
