// The gateway's opt-in shared HTTP cache (RFC 9111, the parts a local proxy needs): GET/HEAD
// answers with explicit freshness (s-maxage, max-age, Expires), never no-store/private, never an
// event stream or a Set-Cookie; Vary is honoured; bounded by entries and bytes (least recently
// used goes first). Concurrent misses for one key wait for the first (request coalescing). A hit
// whose validator the client already holds (If-None-Match, else If-Modified-Since) is a 304. An
// unsafe request's success drops what is stored for its URL and its Location/Content-Location.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http"

export interface CachedResponse {
  readonly status: number
  readonly headers: OutgoingHttpHeaders
  readonly body: Buffer
  readonly storedAt: number
  /** Age the response already had when stored (its Age header), ms. */
  readonly initialAgeMs: number
  readonly freshForMs: number
  /** Request headers named by Vary, with the values the stored response was made for. */
  readonly vary: ReadonlyArray<readonly [string, string]>
}

const CACHEABLE_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501])

/** Methods that change nothing on the service (RFC 9110 §9.2.1). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"])

/**
 * The keys an answer invalidates (RFC 9111 §4.4): a non-error answer (2xx, 3xx) to an unsafe
 * request drops what is stored for its path, and for the paths its Location and Content-Location
 * name on the same instance (`origin`: the URL of the instance the request went to). Keys are the paths
 * sent upstream, query included; none for a safe request or an error.
 */
export const invalidatedKeys = (
  method: string,
  path: string,
  status: number,
  headers: IncomingHttpHeaders,
  origin: string,
): ReadonlyArray<string> => {
  if (SAFE_METHODS.has(method) || status < 200 || status >= 400) return []
  const keys = [path]
  const own = URL.parse(origin)?.origin
  for (const name of ["location", "content-location"]) {
    const value = headers[name]
    if (typeof value !== "string" || own === undefined) continue
    const url = URL.parse(value, `${own}${path}`)
    if (url !== null && url.origin === own) keys.push(`${url.pathname}${url.search}`)
  }
  return keys
}

/** Cache-Control directives, lower-cased, with their values ("" when none). */
export const directives = (value: string | string[] | undefined): ReadonlyMap<string, string> => {
  const out = new Map<string, string>()
  if (value === undefined) return out
  for (const part of (Array.isArray(value) ? value.join(",") : value).split(",")) {
    const eq = part.indexOf("=")
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase()
    if (name !== "")
      out.set(
        name,
        eq < 0
          ? ""
          : part
              .slice(eq + 1)
              .trim()
              .replace(/^"|"$/g, ""),
      )
  }
  return out
}

/** Whether a request may be answered from the cache (and its answer stored). */
export const requestMayUseCache = (method: string, headers: IncomingHttpHeaders): boolean => {
  if (method !== "GET" && method !== "HEAD") return false
  const cc = directives(headers["cache-control"])
  if (cc.has("no-store") || cc.has("no-cache")) return false
  return headers.pragma !== "no-cache" || headers["cache-control"] !== undefined
}

const seconds = (value: string | undefined): number | undefined => {
  if (value === undefined || !/^\d+$/.test(value)) return undefined
  return Number(value) * 1000
}

/** How long a response may be served from a shared cache, or undefined when it may not be stored. */
export const freshnessMs = (
  status: number,
  headers: IncomingHttpHeaders,
  requestHeaders: IncomingHttpHeaders,
  now: number,
): number | undefined => {
  if (!CACHEABLE_STATUS.has(status)) return undefined
  const type = headers["content-type"]
  if (typeof type === "string" && type.toLowerCase().startsWith("text/event-stream")) return undefined
  if (headers["set-cookie"] !== undefined) return undefined
  if (headers.vary === "*") return undefined
  const cc = directives(headers["cache-control"])
  if (cc.has("no-store") || cc.has("private") || cc.has("no-cache")) return undefined
  // A response to an authenticated request is shared only when it says so (RFC 9111 §3.5).
  if (
    requestHeaders.authorization !== undefined &&
    !cc.has("public") &&
    !cc.has("s-maxage") &&
    !cc.has("must-revalidate")
  )
    return undefined
  const explicit = seconds(cc.get("s-maxage")) ?? seconds(cc.get("max-age"))
  if (explicit !== undefined) return explicit > 0 ? explicit : undefined
  const expires = headers.expires
  if (typeof expires === "string") {
    const at = Date.parse(expires)
    const date = typeof headers.date === "string" ? Date.parse(headers.date) : now
    if (Number.isFinite(at)) return at - (Number.isFinite(date) ? date : now) > 0 ? at - date : undefined
  }
  return undefined
}

/** An entity tag without its weakness (W/): If-None-Match compares weakly (RFC 9110 §13.1.2). */
const opaqueTag = (tag: string): string => tag.trim().replace(/^W\//, "")

/**
 * Whether a hit answers `requestHeaders` with 304 Not Modified (RFC 9110 §13.1.2, §13.1.3, §13.2.2):
 * its ETag is one of If-None-Match's (or that is `*`), or, without If-None-Match, it was not
 * modified after If-Modified-Since. Only a stored 200 has a 304 to give.
 */
export const notModified = (entry: CachedResponse, requestHeaders: IncomingHttpHeaders): boolean => {
  if (entry.status !== 200) return false
  const noneMatch = requestHeaders["if-none-match"]
  if (noneMatch !== undefined) {
    if (noneMatch.trim() === "*") return true
    const etag = entry.headers.etag
    if (typeof etag !== "string") return false
    return noneMatch.split(",").some((tag) => opaqueTag(tag) === opaqueTag(etag))
  }
  const since = requestHeaders["if-modified-since"]
  const modified = entry.headers["last-modified"]
  if (since === undefined || typeof modified !== "string") return false
  const sinceAt = Date.parse(since)
  const modifiedAt = Date.parse(modified)
  return Number.isFinite(sinceAt) && Number.isFinite(modifiedAt) && modifiedAt <= sinceAt
}

/** What a 304 carries of the stored answer (RFC 9110 §15.4.5): its validators and caching headers. */
const notModifiedHeaders = [
  "cache-control",
  "content-location",
  "date",
  "etag",
  "expires",
  "vary",
  "last-modified",
]

export const notModifiedHeadersOf = (entry: CachedResponse): OutgoingHttpHeaders =>
  Object.fromEntries(
    notModifiedHeaders.flatMap((name) =>
      entry.headers[name] === undefined ? [] : [[name, entry.headers[name]]],
    ),
  )

const varyNames = (headers: IncomingHttpHeaders): ReadonlyArray<string> => {
  const vary = headers.vary
  if (vary === undefined) return []
  return (Array.isArray(vary) ? vary.join(",") : vary)
    .split(",")
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== "")
}

const headerText = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name]
  return value === undefined ? "" : Array.isArray(value) ? value.join(",") : value
}

/** Variants kept per URL (one per set of values of the request headers its Vary names). */
export const maxVariants = 8

const sameVariant = (a: CachedResponse, b: CachedResponse): boolean =>
  a.vary.length === b.vary.length &&
  a.vary.every(([name, value], i) => b.vary[i]?.[0] === name && b.vary[i]?.[1] === value)

const sameNames = (a: CachedResponse, b: CachedResponse): boolean =>
  a.vary.length === b.vary.length && a.vary.every(([name], i) => b.vary[i]?.[0] === name)

const matchesRequest = (entry: CachedResponse, requestHeaders: IncomingHttpHeaders): boolean =>
  entry.vary.every(([name, value]) => headerText(requestHeaders, name) === value)

export class ResponseCache {
  private readonly maxEntries: number
  private readonly maxBytes: number
  /** The largest body stored: an eighth of the cache, so one answer cannot evict all others. */
  readonly maxEntryBytes: number
  /** By URL, its variants (Vary); a URL used recently is at the back of the eviction order. */
  private readonly entries = new Map<string, CachedResponse[]>()
  private count = 0
  private bytes = 0
  private readonly pending = new Map<string, Promise<void>>()

  constructor(maxEntries: number, maxBytes: number) {
    this.maxEntries = maxEntries
    this.maxBytes = maxBytes
    this.maxEntryBytes = Math.max(1, Math.floor(maxBytes / 8))
  }

  /** Responses stored (every variant counts). */
  get size(): number {
    return this.count
  }

  /** A fresh response for the request, or undefined. */
  lookup(key: string, requestHeaders: IncomingHttpHeaders, now: number): CachedResponse | undefined {
    const variants = this.entries.get(key)
    if (variants === undefined) return undefined
    for (const stale of variants.filter((v) => now - v.storedAt + v.initialAgeMs >= v.freshForMs))
      this.remove(key, stale)
    const entry = this.entries.get(key)?.find((v) => matchesRequest(v, requestHeaders))
    if (entry === undefined) return undefined
    // Recently used goes to the back of the eviction order.
    const kept = this.entries.get(key) as CachedResponse[]
    this.entries.delete(key)
    this.entries.set(key, kept)
    return entry
  }

  /** Seconds old, for the Age header of a hit. */
  static ageSeconds(entry: CachedResponse, now: number): number {
    return Math.floor((now - entry.storedAt + entry.initialAgeMs) / 1000)
  }

  store(
    key: string,
    status: number,
    headers: OutgoingHttpHeaders,
    upstreamHeaders: IncomingHttpHeaders,
    requestHeaders: IncomingHttpHeaders,
    body: Buffer,
    freshForMs: number,
    now: number,
  ): void {
    if (body.length > this.maxEntryBytes) return
    const age = Number(upstreamHeaders.age)
    const entry: CachedResponse = {
      status,
      headers,
      body,
      storedAt: now,
      initialAgeMs: Number.isFinite(age) && age > 0 ? age * 1000 : 0,
      freshForMs,
      vary: varyNames(upstreamHeaders).map((name) => [name, headerText(requestHeaders, name)] as const),
    }
    const variants = this.entries.get(key) ?? []
    // The same variant replaced; a response that varies otherwise than the stored ones (its Vary
    // changed) replaces them all, as they were made under other rules.
    for (const old of variants.filter((v) => sameVariant(v, entry) || !sameNames(v, entry)))
      this.remove(key, old)
    for (
      let kept = this.entries.get(key);
      kept !== undefined && kept.length >= maxVariants;
      kept = this.entries.get(key)
    )
      this.remove(key, kept[0] as CachedResponse)
    const others = this.entries.get(key) ?? []
    this.entries.delete(key)
    this.entries.set(key, [...others, entry])
    this.count++
    this.bytes += body.length
    while (this.count > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.entries().next()
      if (oldest.done) break
      const [oldestKey, oldestVariants] = oldest.value
      this.remove(oldestKey, oldestVariants[0] as CachedResponse)
    }
  }

  /** Drop what is stored for `key`, every variant (an unsafe request to it succeeded). */
  invalidate(key: string): void {
    for (const variant of this.entries.get(key) ?? []) this.remove(key, variant)
  }

  private remove(key: string, entry: CachedResponse): void {
    const variants = this.entries.get(key)
    if (variants === undefined || !variants.includes(entry)) return
    this.bytes -= entry.body.length
    this.count--
    const rest = variants.filter((v) => v !== entry)
    if (rest.length === 0) this.entries.delete(key)
    else this.entries.set(key, rest)
  }

  /** A miss for `key` is being fetched: what later misses for it wait on (request coalescing). */
  inFlight(key: string): Promise<void> | undefined {
    return this.pending.get(key)
  }

  /** Mark a fetch for `key` as in flight; call the result when it is done (stored or not). */
  begin(key: string): () => void {
    let done: () => void = () => {}
    const promise = new Promise<void>((resolve) => {
      done = resolve
    })
    this.pending.set(key, promise)
    return () => {
      if (this.pending.get(key) === promise) this.pending.delete(key)
      done()
    }
  }
}
