// A fetch whose connections belong to one plugin: its own keep-alive agents, destroyed (with
// every pending request aborted) when the plugin's scope closes, so an unloaded plugin leaves no
// socket behind. The global fetch pools connections process-wide and cannot promise that.
import { nodeHttp, nodeHttps } from "../runtime/os/nodeHttp.ts"

export interface ScopedFetch {
  readonly fetch: (url: string | URL, init?: RequestInit) => Promise<Response>
  readonly close: () => void
}

const bodyBytes = async (body: RequestInit["body"]): Promise<Uint8Array | string | undefined> => {
  if (body === undefined || body === null) return undefined
  if (typeof body === "string" || body instanceof Uint8Array) return body
  return new Uint8Array(await new Response(body).arrayBuffer())
}

export const makeScopedFetch = (): ScopedFetch => {
  const http = new (nodeHttp().Agent)({ keepAlive: true })
  const https = new (nodeHttps().Agent)({ keepAlive: true })
  const lifetime = new AbortController()

  const fetch = async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    if (lifetime.signal.aborted) throw new Error("the plugin was unloaded; its fetch is closed")
    const url = new URL(input)
    const secure = url.protocol === "https:"
    if (!secure && url.protocol !== "http:")
      throw new TypeError(`ctx.fetch supports http and https, not ${url.protocol}`)
    const signal = init.signal ? AbortSignal.any([init.signal, lifetime.signal]) : lifetime.signal
    const body = await bodyBytes(init.body)
    const headers: Record<string, string> = {}
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value
    })
    if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body))
    return new Promise<Response>((resolve, reject) => {
      const req = (secure ? nodeHttps().request : nodeHttp().request)(
        url,
        { method: init.method ?? "GET", headers, agent: secure ? https : http, signal },
        (res) => {
          const chunks: Buffer[] = []
          res.on("data", (chunk: Buffer) => chunks.push(chunk))
          res.on("error", reject)
          res.on("end", () => {
            const status = res.statusCode ?? 500
            const responseHeaders = new Headers()
            for (const [key, value] of Object.entries(res.headers))
              if (value !== undefined)
                responseHeaders.set(key, Array.isArray(value) ? value.join(", ") : value)
            const empty = status === 204 || status === 304 || (status >= 100 && status < 200)
            resolve(
              new Response(empty ? null : Buffer.concat(chunks), {
                status,
                statusText: res.statusMessage ?? "",
                headers: responseHeaders,
              }),
            )
          })
        },
      )
      req.on("error", reject)
      req.end(body)
    })
  }

  return {
    fetch,
    close: () => {
      lifetime.abort(new Error("plugin unloaded"))
      http.destroy()
      https.destroy()
    },
  }
}
