// Picks the instance a request goes to, per service policy: least_request (power of two random
// choices on in-flight count), round_robin, weighted (smooth weighted round robin) and hash
// (rendezvous hashing: a key sticks to an instance, and moves only if that instance goes).
// Slow start scales a new instance's weight up over its first slowStartMs. Pure but for `random`.
import type { BalancePolicy } from "../runtime/gatewaySpec.ts"
import type { Endpoint } from "./routingTable.ts"

export interface BalancerSettings {
  readonly policy: BalancePolicy
  readonly weights: ReadonlyArray<number>
  readonly slowStartMs: number
}

/** What the balancer needs to know of the moment and the request. */
export interface PickContext {
  readonly now: number
  /** Requests in flight to an endpoint now. */
  readonly inFlight: (endpoint: Endpoint) => number
  /** balance hash: the request's key (header, cookie or client address). */
  readonly key?: string
}

/** FNV-1a, 32 bits: fast, and spread well enough for rendezvous hashing. */
export const fnv1a = (text: string, seed = 0x811c9dc5): number => {
  let h = seed
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** A final mix so that close inputs land far apart (murmur3's finaliser). */
const mix = (h: number): number => {
  let x = h ^ (h >>> 16)
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

export class Balancer {
  private readonly settings: BalancerSettings
  private readonly random: () => number
  private next = 0
  /** Smooth WRR: each endpoint's current weight by URL. */
  private readonly current = new Map<string, number>()

  constructor(settings: BalancerSettings, random: () => number = Math.random) {
    this.settings = settings
    this.random = random
  }

  /** The weight of `e` now: its configured weight, scaled down while it is in slow start. */
  weight(e: Endpoint, now: number): number {
    const base = this.settings.policy === "weighted" ? (this.settings.weights[e.instance] ?? 1) : 1
    const { slowStartMs } = this.settings
    if (slowStartMs <= 0 || e.startedAt === undefined) return base
    const age = now - e.startedAt
    return age >= slowStartMs ? base : base * Math.max(0.1, age / slowStartMs)
  }

  pick(candidates: ReadonlyArray<Endpoint>, ctx: PickContext): Endpoint | undefined {
    const n = candidates.length
    if (n <= 1) return candidates[0]
    switch (this.settings.policy) {
      case "least_request":
        return this.leastRequest(candidates, ctx)
      case "hash":
        return this.rendezvous(candidates, ctx)
      case "weighted":
        return this.smoothWeighted(candidates, ctx.now)
      case "round_robin":
        if (this.settings.slowStartMs > 0) return this.smoothWeighted(candidates, ctx.now)
        this.next = (this.next + 1) % 0x7fffffff
        return candidates[this.next % n]
    }
  }

  private leastRequest(candidates: ReadonlyArray<Endpoint>, ctx: PickContext): Endpoint {
    const n = candidates.length
    const i = Math.floor(this.random() * n)
    let j = Math.floor(this.random() * (n - 1))
    if (j >= i) j++
    const a = candidates[i] as Endpoint
    const b = candidates[j] as Endpoint
    const score = (e: Endpoint) => (ctx.inFlight(e) + 1) / this.weight(e, ctx.now)
    return score(b) < score(a) ? b : a
  }

  private rendezvous(candidates: ReadonlyArray<Endpoint>, ctx: PickContext): Endpoint {
    const key = ctx.key ?? ""
    let best = candidates[0] as Endpoint
    let bestScore = -1
    for (const e of candidates) {
      // Hashed by instance number, not URL: the same key finds the same instance after a restart.
      const score = mix(fnv1a(`${e.unit}#${e.instance}`, fnv1a(key)))
      if (score > bestScore) {
        best = e
        bestScore = score
      }
    }
    return best
  }

  /** nginx's smooth weighted round robin: every endpoint gains its weight, the richest pays the total. */
  private smoothWeighted(candidates: ReadonlyArray<Endpoint>, now: number): Endpoint {
    let total = 0
    let best: Endpoint | undefined
    let bestWeight = Number.NEGATIVE_INFINITY
    for (const e of candidates) {
      const w = this.weight(e, now)
      total += w
      const c = (this.current.get(e.url) ?? 0) + w
      this.current.set(e.url, c)
      if (c > bestWeight) {
        best = e
        bestWeight = c
      }
    }
    const chosen = best as Endpoint
    this.current.set(chosen.url, bestWeight - total)
    if (this.current.size > candidates.length * 2) {
      const live = new Set(candidates.map((e) => e.url))
      for (const url of this.current.keys()) if (!live.has(url)) this.current.delete(url)
    }
    return chosen
  }
}
