// Chaos benchmark (not CI): one SAM, N random SIGKILLs of its units (default 1,000), then SAM's
// resident memory and open file descriptors before and after, and the same checks as the CI chaos
// test (no duplicates, no orphans, desired states, a consistent store). Usage:
//   node bench/chaos.bench.ts [kills] [units]
// Where SAM's memory goes is easier to see with --heap: `node bench/chaos.bench.ts 1000 6`.
import { availableParallelism } from "node:os"
import { runChaos } from "../test/support/chaos.ts"

const kills = Number(process.argv[2] ?? 1000)
const units = Number(process.argv[3] ?? 6)
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

const report = await runChaos(
  { units, rounds: 1, samKills: 0, killsPerRound: kills, paceMs: 20 },
  console.log,
)
console.log(
  `\nchaos bench: ${report.unitKills} unit kills over ${units} units, ${availableParallelism()} cores, Node ${process.versions.node}`,
)
console.log(
  `SAM RSS: ${mb(report.sam.rssBefore)} → ${mb(report.sam.rssAfter)} (${mb(report.sam.rssAfter - report.sam.rssBefore)} more)`,
)
console.log(`SAM fds: ${report.sam.fdsBefore} → ${report.sam.fdsAfter}`)
console.log(
  `checks: duplicates ${report.duplicates.length}, orphans ${report.orphans.length}, wrong state ${report.wrongState.length}, store problems ${report.storeProblems.length}`,
)
if (
  report.duplicates.length + report.orphans.length + report.wrongState.length + report.storeProblems.length >
  0
) {
  console.log(JSON.stringify(report, null, 2))
  process.exitCode = 1
}
