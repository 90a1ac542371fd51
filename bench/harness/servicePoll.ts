// How the bench sees a service, the same way whatever runs it: GET /health on its port (cold
// start: answered 200), GET / (its pid: a restart is over when a new pid answers). Loopback only.
import { request } from "node:http"

/** Status and body of GET `path` on 127.0.0.1:`port`; undefined when nothing answers. */
export const get = (
  port: number,
  path: string,
  timeoutMs = 1_000,
): Promise<{ status: number; body: string } | undefined> =>
  new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        body += chunk
      })
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
      res.on("error", () => resolve(undefined))
    })
    req.on("timeout", () => req.destroy())
    req.on("error", () => resolve(undefined))
    req.end()
  })

export const healthy = async (port: number): Promise<boolean> => (await get(port, "/health"))?.status === 200

/** The pid of the process answering on `port` (the service program says it at /), if any. */
export const answeringPid = async (port: number): Promise<number | undefined> => {
  const answer = await get(port, "/")
  if (answer?.status !== 200) return undefined
  try {
    const pid = (JSON.parse(answer.body) as { pid?: unknown }).pid
    return typeof pid === "number" ? pid : undefined
  } catch {
    return undefined
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Poll `check` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export const pollUntil = async <A>(
  what: string,
  check: () => Promise<A | undefined | false>,
  timeoutMs: number,
  everyMs = 2,
): Promise<A> => {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const result = await check()
    if (result !== undefined && result !== false) return result
    if (performance.now() > deadline) throw new Error(`bench: ${what} not reached within ${timeoutMs} ms`)
    await pause(everyMs)
  }
}

/** Milliseconds from `since` until every port answers /health with 200 (each polled on its own). */
export const allHealthy = async (
  ports: ReadonlyArray<number>,
  since: number,
  timeoutMs: number,
): Promise<number> => {
  await Promise.all(
    ports.map((port) => pollUntil(`service on port ${port} healthy`, () => healthy(port), timeoutMs, 5)),
  )
  return performance.now() - since
}

/** The pid answering on each port (in order); throws when one does not answer. */
export const pidsOn = async (ports: ReadonlyArray<number>, timeoutMs = 10_000): Promise<number[]> =>
  Promise.all(
    ports.map((port) => pollUntil(`pid answering on port ${port}`, () => answeringPid(port), timeoutMs, 5)),
  )
