// CPU and memory of the processes SAM runs, and of the host, for `GET /api/status` and the
// unit views. CPU % is measured between two reads of the same pid (at most a minute apart);
// on a pid's first read it is the average over the unit's uptime. Linux /proc only; elsewhere
// the per-process numbers are null.
import { statfs } from "node:fs/promises"
import { availableParallelism, freemem, loadavg, totalmem } from "node:os"
import { cpuMillis, residentBytes } from "../runtime/os/proc.ts"

interface Sample {
  readonly cpuMs: number
  readonly at: number
}

const staleMs = 60_000

export interface Usage {
  readonly cpu_percent: number | null
  readonly memory_bytes: number | null
}

const round1 = (n: number) => Math.round(n * 10) / 10

export class ProcessUsage {
  private readonly samples = new Map<number, Sample>()
  private samSample: { cpuMicros: number; at: number } | undefined

  /** Usage of the processes `pids` (summed), which have been up for `uptimeMs`. */
  of(pids: ReadonlyArray<number>, uptimeMs: number): Usage {
    let cpu: number | null = null
    let memory: number | null = null
    const now = Date.now()
    for (const pid of pids) {
      const rss = residentBytes(pid)
      if (rss !== undefined) memory = (memory ?? 0) + rss
      const cpuMs = cpuMillis(pid)
      if (cpuMs === undefined) continue
      const last = this.samples.get(pid)
      this.samples.set(pid, { cpuMs, at: now })
      const percent =
        last && now - last.at > 0 && now - last.at < staleMs
          ? ((cpuMs - last.cpuMs) / (now - last.at)) * 100
          : uptimeMs > 0
            ? (cpuMs / uptimeMs) * 100
            : 0
      cpu = (cpu ?? 0) + Math.max(0, percent)
    }
    this.prune(now)
    return { cpu_percent: cpu === null ? null : round1(cpu), memory_bytes: memory }
  }

  /** SAM's own CPU % since the previous call (since it started on the first). */
  samPercent(): number {
    const now = Date.now()
    const usage = process.cpuUsage()
    const micros = usage.user + usage.system
    const last = this.samSample ?? { cpuMicros: 0, at: now - process.uptime() * 1000 }
    this.samSample = { cpuMicros: micros, at: now }
    const elapsed = now - last.at
    return elapsed > 0 ? round1(((micros - last.cpuMicros) / 1000 / elapsed) * 100) : 0
  }

  private prune(now: number): void {
    if (this.samples.size < 1024) return
    for (const [pid, sample] of this.samples) if (now - sample.at > staleMs) this.samples.delete(pid)
  }
}

export interface HostResources {
  readonly memory: { total_bytes: number; free_bytes: number; sam_rss_bytes: number }
  readonly cpu: { cores: number; load_average: ReadonlyArray<number>; sam_percent: number | null }
  readonly disk: { path: string; total_bytes: number | null; free_bytes: number | null }
}

/** Memory, CPU and the free space of the disk holding `stateDir`. */
export const hostResources = async (usage: ProcessUsage, stateDir: string): Promise<HostResources> => {
  let total: number | null = null
  let free: number | null = null
  try {
    const fs = await statfs(stateDir)
    total = fs.blocks * fs.bsize
    free = fs.bavail * fs.bsize
  } catch {
    // The state directory may not exist yet (nothing written): report unknown.
  }
  return {
    memory: { total_bytes: totalmem(), free_bytes: freemem(), sam_rss_bytes: process.memoryUsage.rss() },
    cpu: {
      cores: availableParallelism(),
      load_average: loadavg().map((n) => Math.round(n * 100) / 100),
      sam_percent: usage.samPercent(),
    },
    disk: { path: stateDir, total_bytes: total, free_bytes: free },
  }
}
