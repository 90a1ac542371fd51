// A free TCP port on 127.0.0.1: one the kernel picks, or with a range (runtime.port_range) the
// first of it that binds, from where the last search ended. The port is released before the
// child binds it; ports already handed out by this process are skipped, which keeps concurrent
// allocations from colliding.
import { createServer } from "node:net"

const handedOut = new Set<number>()

export interface PortRange {
  readonly from: number
  readonly to: number
}

/** No port of the range binds: every one is in use (by SAM's units or anything else). */
export class PortRangeExhausted extends Error {
  override readonly name = "PortRangeExhausted"
}

const pickOnce = (port = 0): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const remember = (port: number): number => {
  handedOut.add(port)
  if (handedOut.size > 4096) handedOut.delete(handedOut.values().next().value as number)
  return port
}

/** Where the next search of each range begins (after the port handed out last). */
const cursors = new Map<string, number>()

const freePortIn = async (range: PortRange): Promise<number> => {
  const size = range.to - range.from + 1
  const key = `${range.from}-${range.to}`
  const start = cursors.get(key) ?? 0
  for (let i = 0; i < size; i++) {
    const port = range.from + ((start + i) % size)
    if (handedOut.has(port)) continue
    const bound = await pickOnce(port).catch(() => undefined)
    if (bound === undefined) continue
    cursors.set(key, (start + i + 1) % size)
    return remember(port)
  }
  throw new PortRangeExhausted(
    `no free port in runtime.port_range ${key}: all ${size} are in use (by SAM's units or other programs); widen the range`,
  )
}

export const freePort = async (range?: PortRange): Promise<number> => {
  if (range !== undefined) return freePortIn(range)
  for (let i = 0; i < 20; i++) {
    const port = await pickOnce()
    if (!handedOut.has(port)) return remember(port)
  }
  return pickOnce()
}
