// Passive outlier ejection per instance (Envoy's outlier detection): consecutive 5xx answers or
// connect errors eject an instance for base × n (n: how often it was ejected), never more than a
// share of the instances; below the panic threshold of healthy ones, traffic goes to all. Pure:
// time is passed in.

export interface OutlierSettings {
  readonly consecutiveFailures: number
  readonly baseEjectionMs: number
  readonly maxEjectionPercent: number
  readonly panicThresholdPercent: number
}

interface Health {
  consecutive: number
  ejections: number
  ejectedUntil: number
}

export class OutlierDetector {
  private readonly settings: OutlierSettings
  private readonly health = new Map<string, Health>()

  constructor(settings: OutlierSettings) {
    this.settings = settings
  }

  private of(url: string): Health {
    let h = this.health.get(url)
    if (h === undefined) {
      h = { consecutive: 0, ejections: 0, ejectedUntil: 0 }
      this.health.set(url, h)
    }
    return h
  }

  isEjected(url: string, now: number): boolean {
    const h = this.health.get(url)
    return h !== undefined && h.ejectedUntil > now
  }

  /** An answer that was no failure: the run of failures ends; a long good spell forgets ejections. */
  recordSuccess(url: string, now: number): void {
    const h = this.health.get(url)
    if (h === undefined) return
    h.consecutive = 0
    if (h.ejections > 0 && now - h.ejectedUntil > this.settings.baseEjectionMs * h.ejections) h.ejections = 0
  }

  /**
   * A 5xx or a connect error from `url`, one of `total` instances. Returns true when this ejects
   * it (the run reached the threshold and fewer than max_ejection_percent are ejected).
   */
  recordFailure(url: string, now: number, total: number): boolean {
    const h = this.of(url)
    h.consecutive++
    if (h.consecutive < this.settings.consecutiveFailures || h.ejectedUntil > now) return false
    let ejected = 0
    for (const other of this.health.values()) if (other.ejectedUntil > now) ejected++
    if (((ejected + 1) / total) * 100 > this.settings.maxEjectionPercent) return false
    h.ejections++
    h.consecutive = 0
    h.ejectedUntil = now + this.settings.baseEjectionMs * h.ejections
    return true
  }

  /** The endpoints to balance over: the healthy ones, or all when too few are (panic). */
  eligible<E extends { readonly url: string }>(endpoints: ReadonlyArray<E>, now: number): ReadonlyArray<E> {
    if (this.health.size === 0) return endpoints
    let ejected = 0
    for (const e of endpoints) if (this.isEjected(e.url, now)) ejected++
    if (ejected === 0) return endpoints
    const healthy = endpoints.filter((e) => !this.isEjected(e.url, now))
    const share = (healthy.length / endpoints.length) * 100
    return healthy.length === 0 || share < this.settings.panicThresholdPercent ? endpoints : healthy
  }

  /** Forget instances that left the table. */
  retain(urls: ReadonlySet<string>): void {
    for (const url of this.health.keys()) if (!urls.has(url)) this.health.delete(url)
  }
}
