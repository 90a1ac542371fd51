// Cost of running a command inside a containment cell: `node bench/containment.bench.ts [runs]`.
// Time from spawn() to the program's first byte on stdout, unwrapped against wrapped in each mode
// this host offers (sh joining the cgroups + setpriv's parent-death signal). Variants take turns
// in every round, so that load from other work on the machine hits them alike; medians of `runs`.
import { spawn } from "node:child_process"
import { detectContainment } from "../src/runtime/containment/detectContainment.ts"
import type { Containment } from "../src/runtime/containment/types.ts"
import { median, ms } from "./support.ts"

const runs = Number(process.argv[2] ?? 30)

const firstOutput = (command: string, args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<number>((resolve, reject) => {
    const start = performance.now()
    const child = spawn(command, [...args], { detached: true, env, stdio: ["ignore", "pipe", "inherit"] })
    child.stdout.once("data", () => resolve(performance.now() - start))
    child.once("error", reject)
  })

const containments: Containment[] = []
for (const mode of ["cgroup-v1", "cgroup-v2", "process-group"] as const) {
  try {
    containments.push(detectContainment({ force: mode }))
  } catch (error) {
    console.log(`${mode}: not available here (${error instanceof Error ? error.message : String(error)})`)
  }
}
const path = process.env.PATH ?? ""
const spawnTimes = new Map<string, number[]>([
  ["unwrapped", []],
  ...containments.map((c) => [c.info.mode, []] as [string, number[]]),
])
const cellTimes = new Map<string, number[]>(containments.map((c) => [c.info.mode, []]))
for (let i = 0; i < runs; i++) {
  spawnTimes.get("unwrapped")?.push(await firstOutput("/bin/echo", ["hi"], { PATH: path }))
  for (const containment of containments) {
    const made = performance.now()
    const cell = containment.cell(`bench#${i}`)
    const { command, args } = cell.wrap("/bin/echo", ["hi"])
    cellTimes.get(containment.info.mode)?.push(performance.now() - made)
    spawnTimes.get(containment.info.mode)?.push(await firstOutput(command, args, { PATH: path, ...cell.env }))
  }
}
for (const containment of containments) await containment.dispose()

const baseline = median(spawnTimes.get("unwrapped") ?? [])
console.log(`spawn → first output, median of ${runs}; unwrapped /bin/echo: ${ms(baseline)}`)
for (const containment of containments) {
  const mode = containment.info.mode
  const wrapped = median(spawnTimes.get(mode) ?? [])
  const cell = median(cellTimes.get(mode) ?? [])
  console.log(`  ${mode}: ${ms(wrapped)} (+${ms(wrapped - baseline)}); making the cell: ${ms(cell)}`)
}
