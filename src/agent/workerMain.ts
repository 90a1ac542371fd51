// Entry script of an agent worker thread (runtime `worker`): the same protocol as childMain.ts,
// over the worker's parentPort. The thread ends on a shutdown message or when terminated.
import { parentPort } from "node:worker_threads"
import { AgentHost, type AgentPort, waitForInit } from "./agentHost.ts"
import { describeError } from "./describeError.ts"
import { loadAgent } from "./loadAgent.ts"

if (!parentPort) throw new Error("workerMain.ts must run in a worker thread started by SAM")
const parent = parentPort

const port: AgentPort = {
  send: (message) => parent.postMessage(message),
  onMessage: (listener) => {
    parent.on("message", listener)
    return () => parent.off("message", listener)
  },
}

const init = await waitForInit(port, (msg) => port.send({ type: "log", level: "warn", msg }))
let loaded = false
try {
  const definition = await loadAgent(init.path)
  const host = new AgentHost({ definition, port, init, env: process.env, onShutdown: () => process.exit(0) })
  loaded = true
  await host.start()
} catch (error) {
  // Its setup threw (it ran, and failed): SAM reports that as a crash of the agent's own.
  if (loaded) port.send({ type: "start-failed", message: describeError(error), during: "setup" })
  // Uncaught, the error reaches SAM through the Worker's "error" event with its message intact.
  throw new Error(`failed to start: ${describeError(error)}`)
}
