// A free TCP port on 127.0.0.1, found by letting the kernel pick one. The port is released
// before the child binds it; ports already handed out by this process are skipped, which keeps
// concurrent allocations from colliding.
import { createServer } from "node:net"

const handedOut = new Set<number>()

const pickOnce = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export const freePort = async (): Promise<number> => {
  for (let i = 0; i < 20; i++) {
    const port = await pickOnce()
    if (!handedOut.has(port)) {
      handedOut.add(port)
      if (handedOut.size > 4096) handedOut.delete(handedOut.values().next().value as number)
      return port
    }
  }
  return pickOnce()
}
