// What a test may have leaked: live handles (sockets, servers, child pipes, watchers) other than
// this process's own stdio and IPC channel, plus pending timers. Compare before and after.

type Handle = { constructor?: { name?: string }; fd?: number; _handle?: { fd?: number } }

const ownFd = (h: Handle) => {
  const fd = h.fd ?? h._handle?.fd
  return fd !== undefined && fd >= 0 && fd <= 3
}

export const openResources = (): string[] => {
  const handles = (process as unknown as { _getActiveHandles(): Handle[] })._getActiveHandles()
  const named = handles
    .filter((h) => !ownFd(h))
    .map((h) => {
      const name = h.constructor?.name ?? "handle"
      const child = h as { spawnargs?: string[]; pid?: number }
      return name === "ChildProcess" ? `ChildProcess(${child.pid} ${child.spawnargs?.join(" ")})` : name
    })
  const timers = process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "Immediate")
  return [...named, ...timers].sort()
}

/** What `after` holds beyond `before` (as multisets). */
export const added = (before: ReadonlyArray<string>, after: ReadonlyArray<string>): string[] => {
  const rest = [...before]
  return after.filter((r) => {
    const i = rest.indexOf(r)
    if (i === -1) return true
    rest.splice(i, 1)
    return false
  })
}

/**
 * Let libuv finish closing handles that were already closed (a destroyed socket leaves the
 * handle list in the loop's close phase): two turns of the loop, not a timed wait.
 */
export const closePhase = async (): Promise<void> => {
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
}
