// TCP check: healthy when a connection to the port is accepted within the timeout.
import { connect } from "node:net"
import type { ProbeFn } from "./probe.ts"

export const tcpProbe: ProbeFn = (spec, target, signal) =>
  new Promise((resolve) => {
    const port = spec.port ?? target.port ?? (target.url ? Number(new URL(target.url).port) : undefined)
    const host = target.url ? new URL(target.url).hostname : target.host
    if (!port) {
      resolve({ ok: false, detail: "tcp check has no port to probe" })
      return
    }
    const socket = connect({ host, port, signal })
    const done = (ok: boolean, detail: string) => {
      socket.destroy()
      resolve({ ok, detail })
    }
    socket.setTimeout(spec.timeoutMs, () =>
      done(false, `connect ${host}:${port}: timed out after ${spec.timeoutMs} ms`),
    )
    socket.once("connect", () => done(true, `connect ${host}:${port}: ok`))
    socket.once("error", (error) => done(false, `connect ${host}:${port}: ${error.message}`))
  })
