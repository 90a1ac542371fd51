// Cost of running a command inside a containment cell: `node bench/containment.bench.ts [runs]`.
// Time from spawn() to the program's first byte on stdout, unwrapped against wrapped in each mode
// this host offers (sh joining the cgroups + setpriv's parent-death signal), median of `runs`.
import { spawn } from "node:child_process"
import { detectContainment } from "../src/runtime/containment/detectContainment.ts"
import type { ContainmentMode } from "../src/runtime/containment/types.ts"
import { median, ms } from "./support.ts"

const runs = Number(process.argv[2] ?? 30)

const firstOutput = (command: string, args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<number>((resolve, reject) => {
    const start = performance.now()
    const child = spawn(command, [...args], { detached: true, env, stdio: ["ignore", "pipe", "inherit"] })
    child.stdout.once("data", () => resolve(performance.now() - start))
    child.once("error", reject)
  })

const measure = async (mode?: ContainmentMode) => {
  const containment = mode ? detectContainment({ force: mode }) : undefined
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const cell = containment?.cell(`bench#${i}`)
    const env = { PATH: process.env.PATH ?? "", ...(cell?.env ?? {}) }
    const { command, args } = cell ? cell.wrap("/bin/echo", ["hi"]) : { command: "/bin/echo", args: ["hi"] }
    times.push(await firstOutput(command, args, env))
  }
  await containment?.dispose()
  return median(times)
}

const baseline = await measure()
console.log(`unwrapped /bin/echo: ${ms(baseline)} (median of ${runs})`)
for (const mode of ["cgroup-v1", "cgroup-v2", "process-group"] as const) {
  try {
    const wrapped = await measure(mode)
    console.log(`${mode}: ${ms(wrapped)} (+${ms(wrapped - baseline)}, ×${(wrapped / baseline).toFixed(2)})`)
  } catch (error) {
    console.log(`${mode}: not available here (${error instanceof Error ? error.message : String(error)})`)
  }
}
