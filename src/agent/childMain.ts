// Entry script of an agent child process (runtimes `sandbox` and `process`): waits for SAM's
// init message on the IPC channel, loads the agent module and hosts it. It exits when SAM asks
// (SIGTERM, shutdown message) or disappears (IPC disconnect): an agent never outlives SAM.
import { AgentHost, type AgentPort, errorMessage, waitForInit } from "./agentHost.ts"
import { loadAgent } from "./loadAgent.ts"
import type { FromAgent } from "./protocol.ts"

if (!process.send) {
  console.error("sam agent: childMain.ts must be started by SAM with an IPC channel")
  process.exit(2)
}

const port: AgentPort = {
  send: (message: FromAgent) => {
    if (!process.connected) throw new Error("IPC channel closed")
    process.send?.(message)
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

const init = await waitForInit(port, (detail) => log("warn", detail))
let host: AgentHost | undefined
const exitAfterStop = (code: number) => {
  const stopping = host ? host.stop() : Promise.resolve()
  void stopping.finally(() => process.exit(code))
}
process.once("SIGTERM", () => exitAfterStop(0))
process.once("SIGINT", () => exitAfterStop(0))

try {
  const definition = await loadAgent(init.path)
  host = new AgentHost({ definition, port, init, env: process.env, onShutdown: () => process.exit(0) })
  await host.start()
} catch (error) {
  // Exit only once the reason has reached SAM (it reports it as the start failure).
  const reason: FromAgent = { type: "log", level: "error", msg: `failed to start: ${errorMessage(error)}` }
  process.exitCode = 1
  process.send(reason, undefined, {}, () => process.exit(1))
}
