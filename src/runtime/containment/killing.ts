// Signals to sets of pids, and the short synchronous waits between them: the kernel needs
// microseconds to freeze a cgroup or deliver a SIGKILL, so containment operations stay
// synchronous (callers poll for emptiness with their own clocks). Used by every mode.

/** Signal one pid (SIGKILL unless told), ignoring processes that are already gone. */
export const killPid = (pid: number, signal: NodeJS.Signals = "SIGKILL"): void => {
  try {
    process.kill(pid, signal)
  } catch {
    // ESRCH: exited meanwhile.
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** Block for `ms` milliseconds. */
export const sleepSync = (ms: number): void => {
  Atomics.wait(sleeper, 0, 0, ms)
}

/** Poll `condition` every millisecond, at most `ms`; true once it held. */
export const waitSync = (condition: () => boolean, ms: number): boolean => {
  const deadline = performance.now() + ms
  while (!condition()) {
    if (performance.now() >= deadline) return false
    sleepSync(1)
  }
  return true
}

/**
 * SIGKILL whatever `list` returns, again and again until it returns nothing (a process may fork
 * between being listed and being killed; its child is listed next round), at most `rounds`
 * times. Returns every pid signalled. `before` runs first in each round (a group kill).
 */
export const killUntilGone = (
  list: () => ReadonlyArray<number>,
  rounds = 20,
  before?: () => void,
): number[] => {
  const signalled = new Set<number>()
  for (let round = 0; round < rounds; round++) {
    before?.()
    const pids = list()
    if (pids.length === 0) break
    for (const pid of pids) {
      killPid(pid)
      signalled.add(pid)
    }
    sleepSync(1)
  }
  return [...signalled]
}
