// Rate limiting by token bucket (Traefik's and Envoy's local limit), one bucket per client key:
// `rate` tokens a second up to `burst`. What take() returns is what the RateLimit-Policy and
// RateLimit headers (draft-ietf-httpapi-ratelimit-headers-08+) and Retry-After say. Pure.

export interface BucketAnswer {
  readonly allowed: boolean
  /** Whole tokens left after this request. */
  readonly remaining: number
  /** Seconds until the bucket is full again. */
  readonly resetSeconds: number
  /** Refused: seconds until one token is there. */
  readonly retryAfterSeconds: number
}

interface Bucket {
  tokens: number
  at: number
}

export class TokenBuckets {
  readonly rate: number
  readonly burst: number
  private readonly maxKeys: number
  private readonly buckets = new Map<string, Bucket>()

  constructor(rate: number, burst: number, maxKeys = 10_000) {
    this.rate = rate
    this.burst = burst
    this.maxKeys = maxKeys
  }

  take(key: string, now: number): BucketAnswer {
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      bucket = { tokens: this.burst, at: now }
      // Bounded: the key seen longest ago goes (a full bucket, most likely).
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next()
        if (!oldest.done) this.buckets.delete(oldest.value)
      }
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate)
      bucket.at = now
      this.buckets.delete(key)
    }
    this.buckets.set(key, bucket)
    const allowed = bucket.tokens >= 1
    if (allowed) bucket.tokens -= 1
    return {
      allowed,
      remaining: Math.floor(bucket.tokens),
      resetSeconds: Math.ceil((this.burst - bucket.tokens) / this.rate),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate)),
    }
  }

  /** `RateLimit-Policy`: the quota (burst) per window (seconds to refill it). */
  policyHeader(name: string): string {
    return `"${name}";q=${this.burst};w=${Math.max(1, Math.ceil(this.burst / this.rate))}`
  }
}

/** `RateLimit`: what is left and when the quota is whole again. */
export const rateLimitHeader = (name: string, answer: BucketAnswer): string =>
  `"${name}";r=${answer.remaining};t=${answer.resetSeconds}`
