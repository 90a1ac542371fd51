// Runtime store costs: one desired-state write (its own commit, WAL, synchronous=NORMAL), a read,
// a three-table transaction, the change delivery per write, and taking/refusing the state-dir
// lock. Run: node bench/store.bench.ts [writes]
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { openRuntimeStore } from "../src/runtime/store/runtimeStore.ts"
import { acquireStateDir, StateDirInUse } from "../src/runtime/store/stateDirLock.ts"

const writes = Number(process.argv[2] ?? 10_000)
const dir = mkdtempSync(join(tmpdir(), "sam-store-bench-"))
const perOp = (label: string, count: number, body: (i: number) => void) => {
  const began = performance.now()
  for (let i = 0; i < count; i++) body(i)
  const us = ((performance.now() - began) * 1000) / count
  console.log(`${label}: ${us.toFixed(1)} µs/op (${count} ops)`)
}
try {
  const store = openRuntimeStore(dir)
  const at = new Date().toISOString()
  perOp("desiredState.set (own commit)", writes, (i) =>
    store.desiredState.set({
      unit: `u${i % 100}`,
      state: i % 2 ? "running" : "stopped",
      by: "api",
      at,
      configHash: "h",
    }),
  )
  perOp("desiredState.get", writes, (i) => store.desiredState.get(`u${i % 100}`))
  perOp("transaction: desired state + instance + port", writes, (i) =>
    store.transaction(() => {
      store.desiredState.set({ unit: `u${i % 100}`, state: "running", by: "api", at, configHash: "h" })
      store.instances.upsert({
        unit: `u${i % 100}`,
        instance: 0,
        pid: i,
        startTime: "1",
        cell: "",
        port: 8000,
        startedAt: at,
      })
      store.ports.set(`u${i % 100}`, 0, 8000)
    }),
  )
  let heard = 0
  const off = store.subscribe(() => heard++)
  store.watchDesiredState("u1")
  perOp("desiredState.set with a listener and a watched ref", writes, (i) =>
    store.desiredState.set({
      unit: `u${i % 100}`,
      state: i % 2 ? "running" : "stopped",
      by: "api",
      at,
      configHash: "h",
    }),
  )
  off()
  console.log(`listener heard ${heard} changes`)
  store.close()

  const lockDir = join(dir, "lock")
  perOp("acquireStateDir + release", 200, () => acquireStateDir(lockDir).release())
  const held = acquireStateDir(lockDir)
  perOp("acquireStateDir refused (held in this process)", 200, () => {
    try {
      acquireStateDir(lockDir)
    } catch (error) {
      if (!(error instanceof StateDirInUse)) throw error
    }
  })
  held.release()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
