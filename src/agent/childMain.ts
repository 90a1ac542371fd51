// Entry script of an agent child process (runtimes `sandbox` and `process`): waits for SAM's
// init message on the IPC channel, loads the agent module and hosts it. It exits when SAM asks
// (SIGTERM, shutdown message) or disappears (IPC disconnect): an agent never outlives SAM.
// The SDK itself is imported dynamically, so that a sandbox refusing to load it (or the agent's
// imports) is reported to SAM as a `start-failed` naming the path, not a bare crash.
import type { AgentHost, AgentPort } from "./agentHost.ts"
import { describeError, errorCode } from "./describeError.ts"
import type { FromAgent } from "./protocol.ts"

if (!process.send) {
  console.error("sam agent: childMain must be started by SAM with an IPC channel")
  process.exit(2)
}
const send = process.send.bind(process)

const port: AgentPort = {
  send: (message: FromAgent) => {
    if (!process.connected) throw new Error("IPC channel closed")
    send(message)
  },
  onMessage: (listener) => {
    process.on("message", listener)
    return () => process.off("message", listener)
  },
}

const log = (level: "warn" | "error", msg: string) => {
  try {
    port.send({ type: "log", level, msg })
  } catch {
    console.error(msg)
  }
}

// SAM gone: nobody is left to supervise or stop us.
process.on("disconnect", () => process.exit())

let host: AgentHost | undefined
// Past loading: a failure now is the agent's setup throwing.
let loaded = false
const exitAfterStop = (code: number) => {
  const stopping = host ? host.stop() : Promise.resolve()
  void stopping.finally(() => process.exit(code))
}
process.once("SIGTERM", () => exitAfterStop(0))
process.once("SIGINT", () => exitAfterStop(0))

try {
  const [{ AgentHost, waitForInit }, { loadAgent }] = await Promise.all([
    import("./agentHost.ts"),
    import("./loadAgent.ts"),
  ])
  const init = await waitForInit(port, (detail) => log("warn", detail))
  const definition = await loadAgent(init.path)
  host = new AgentHost({ definition, port, init, env: process.env, onShutdown: () => process.exit(0) })
  loaded = true
  await host.start()
} catch (error) {
  // Exit only once the reason has reached SAM (it reports it as the start failure).
  const reason: FromAgent = {
    type: "start-failed",
    message: describeError(error),
    ...errorCode(error),
    ...(loaded ? { during: "setup" as const } : {}),
  }
  process.exitCode = 1
  if (process.connected) send(reason, undefined, {}, () => process.exit(1))
  else process.exit(1)
}
