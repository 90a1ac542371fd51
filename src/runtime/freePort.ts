// A free TCP port on 127.0.0.1: with a range (runtime.port_range) the first of it that binds,
// from where the last search ended. Without one, from below the kernel's ephemeral range (the
// source ports of outgoing connections, ip_local_port_range): a port the kernel picks would be
// from that range, where any outgoing connection may take a stopped unit's kept port (and the
// unit's next start fails with EADDRINUSE). The port is released before the child binds it; ports
// already handed out by this process are skipped, which keeps concurrent allocations from colliding.
import { readFileSync } from "node:fs"
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

/** The kernel's range of source ports for outgoing connections (Linux), if it can be read. */
export const ephemeralRange = (file = "/proc/sys/net/ipv4/ip_local_port_range"): PortRange | undefined => {
  try {
    const [from, to] = readFileSync(file, "utf8").trim().split(/\s+/).map(Number)
    return from !== undefined && to !== undefined && from > 0 && to >= from ? { from, to } : undefined
  } catch {
    return undefined
  }
}

/** Where SAM's own picks begin without runtime.port_range (Kubernetes' NodePorts are 30000–32767). */
const defaultFrom = 20_000

/** The ports handed out without runtime.port_range: below the ephemeral range when there is room. */
export const defaultPortRange = (ephemeral = ephemeralRange()): PortRange | undefined =>
  ephemeral !== undefined && ephemeral.from - 1 - defaultFrom >= 1_000
    ? { from: defaultFrom, to: ephemeral.from - 1 }
    : undefined

/** How much of `range` the kernel may also hand out as source ports, if any (`sam validate` says so). */
export const ephemeralOverlap = (range: PortRange, ephemeral = ephemeralRange()): PortRange | undefined => {
  if (ephemeral === undefined) return undefined
  const from = Math.max(range.from, ephemeral.from)
  const to = Math.min(range.to, ephemeral.to)
  return from <= to ? { from, to } : undefined
}

/** Whether `port` binds on 127.0.0.1 now (a kept port something else may have taken meanwhile). */
export const portIsFree = (port: number): Promise<boolean> =>
  pickOnce(port).then(
    () => true,
    () => false,
  )

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

/**
 * Ports already promised (kept in the runtime store for instances not started yet): no search
 * hands them to another unit while their instance waits for its dependencies.
 */
export const reservePorts = (ports: Iterable<number>): void => {
  for (const port of ports) remember(port)
}

/** Where the next search of each range begins (after the port handed out last). */
const cursors = new Map<string, number>()

const freePortIn = async (range: PortRange, configured: boolean): Promise<number> => {
  const size = range.to - range.from + 1
  const key = `${range.from}-${range.to}`
  // SAM's own range begins at a random place: two SAMs on one machine seldom try the same ports.
  const start = cursors.get(key) ?? (configured ? 0 : Math.floor(Math.random() * size))
  for (let i = 0; i < size; i++) {
    const port = range.from + ((start + i) % size)
    if (handedOut.has(port)) continue
    // Taken before the probe: a search running at the same time (two units a reload adds) skips
    // it instead of probing it too and handing out the same port twice.
    remember(port)
    const bound = await pickOnce(port).catch(() => undefined)
    if (bound === undefined) {
      handedOut.delete(port)
      continue
    }
    cursors.set(key, (start + i + 1) % size)
    return port
  }
  throw new PortRangeExhausted(
    `no free port in runtime.port_range ${key}: all ${size} are in use (by SAM's units or other programs); widen the range`,
  )
}

let ownRange: PortRange | undefined | null = null

export const freePort = async (range?: PortRange): Promise<number> => {
  if (range !== undefined) return freePortIn(range, true)
  if (ownRange === null) ownRange = defaultPortRange()
  if (ownRange !== undefined) return freePortIn(ownRange, false).catch(() => kernelPick())
  return kernelPick()
}

/** A port the kernel picks (no room below its ephemeral range, or none of that room free). */
const kernelPick = async (): Promise<number> => {
  for (let i = 0; i < 20; i++) {
    const port = await pickOnce()
    if (!handedOut.has(port)) return remember(port)
  }
  return pickOnce()
}
