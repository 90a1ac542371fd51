// Restart latency: median time from SIGKILL of a supervised HTTP service until SAM has it
// ready again (health check passing), against the raw cost of spawning the same program until
// it answers. Run: node bench/restart.bench.ts [rounds]
import { spawn } from "node:child_process"
import { request } from "node:http"
import { fileURLToPath } from "node:url"
import { freePort } from "../src/runtime/freePort.ts"
import { Sam } from "../src/runtime/sam.ts"
import { defaultRestart, defaultStop } from "../src/runtime/unitSpec.ts"
import { median, ms, waitUntil } from "./support.ts"

const rounds = Number(process.argv[2] ?? 20)
const script = fileURLToPath(new URL("../test/fixtures/http-service.mjs", import.meta.url))

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/health", agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on("error", () => resolve(false))
    req.end()
  })

const rawSpawn = async (): Promise<number> => {
  const port = await freePort()
  const began = performance.now()
  const child = spawn(process.execPath, [script], { env: { PORT: String(port) }, stdio: "ignore" })
  await waitUntil(() => answers(port))
  const elapsed = performance.now() - began
  const exited = new Promise((r) => child.once("exit", r))
  child.kill("SIGKILL")
  await exited
  return elapsed
}

const samRestart = async (sam: Sam): Promise<number> => {
  const pid = sam.unitStatus("svc").pid as number
  const began = performance.now()
  process.kill(pid, "SIGKILL")
  await sam.until("svc", (s) => s.pid !== pid && s.state === "running" && s.ready)
  return performance.now() - began
}

const main = async () => {
  const raw: number[] = []
  for (let i = 0; i < rounds; i++) raw.push(await rawSpawn())

  const sam = new Sam({
    units: [
      {
        id: "svc",
        kind: "service",
        runtime: "process",
        group: "services",
        dependsOn: [],
        dependencyRestart: "none",
        instances: 1,
        // Backoff kept at 1 ms so the figure is SAM's own cost; with the default 1 s base the
        // first restart waits about 1 s more, by design.
        restart: { ...defaultRestart, backoffBaseMs: 1, backoffMaxMs: 1, maxRestarts: rounds + 5 },
        stop: defaultStop,
        probes: [
          {
            type: "http",
            endpoint: "/health",
            intervalMs: 1000,
            timeoutMs: 1000,
            failureThreshold: 3,
            successThreshold: 1,
            startPeriodMs: 0,
            role: "both",
          },
        ],
        process: { command: process.execPath, args: [script], env: {}, inheritEnv: false },
      },
    ],
  })
  await sam.start()
  const supervised: number[] = []
  for (let i = 0; i < rounds; i++) supervised.push(await samRestart(sam))
  await sam.stop()

  const base = median(raw)
  const restart = median(supervised)
  console.log(`restart latency, ${rounds} rounds (node ${process.version}, ${process.platform})`)
  console.log(`  raw spawn until answering:          median ${ms(base)}`)
  console.log(`  SAM: SIGKILL until ready again:     median ${ms(restart)}`)
  console.log(`  ratio SAM restart / raw spawn:      ${(restart / base).toFixed(2)}x`)
}

await main()
