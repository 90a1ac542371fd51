// SAM's death must not leave its children running. The reaper is a POSIX sh process (reaper.sh)
// that SAM starts at start and keeps a pipe to; when the pipe closes it kills whatever is left
// of SAM and exits. sweepLeftovers runs the same script at the next start when the reaper died too.
import { type ChildProcess, spawn } from "node:child_process"
import { Socket } from "node:net"
import { fileURLToPath } from "node:url"
import { isAlive, processStartTime } from "../os/proc.ts"
import { type Containment, ContainmentError, type ContainmentRecord } from "./types.ts"

const script = fileURLToPath(new URL("./reaper.sh", import.meta.url))
const closeWithinMs = 10_000

/** The reaper needs only the base tools; no marker of SAM's may reach it. */
const reaperEnvironment = (): Record<string, string> => ({
  PATH: ["/usr/sbin", "/usr/bin", "/sbin", "/bin", process.env.PATH ?? ""].filter(Boolean).join(":"),
  LC_ALL: "C",
})

export interface Reaper {
  readonly pid: number
  alive(): boolean
  /** Clean stop: close the pipe (the reaper sweeps, finding nothing if SAM disposed first) and wait for it. */
  close(): Promise<void>
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()))

/**
 * Start the reaper for `containment`: detached (its own session and process group), in no cell,
 * without a parent-death signal, stdout and stderr to /dev/null (a closed terminal must not
 * SIGPIPE it mid-sweep). Neither the process nor its pipe keeps SAM's event loop alive.
 */
export const startReaper = (containment: Containment): Reaper => {
  const child = spawn("/bin/sh", [script, containment.samId, ...containment.record.cgroupDirs], {
    detached: true,
    cwd: "/",
    env: reaperEnvironment(),
    stdio: ["pipe", "ignore", "ignore"],
  })
  const pid = child.pid
  if (pid === undefined) {
    throw new ContainmentError({
      message: `cannot start SAM's reaper (/bin/sh ${script}): is /bin/sh there?`,
    })
  }
  const stdin = child.stdin
  if (stdin === null) throw new ContainmentError({ message: "SAM's reaper has no stdin pipe" })
  let broken = false
  stdin.on("error", () => {
    broken = true // the reaper was killed; alive() says so, and the next start sweeps instead
  })
  child.on("error", () => {
    broken = true
  })
  child.unref()
  if (stdin instanceof Socket) stdin.unref() // a pipe to a child is a Socket
  const gone = exited(child)
  const send = (line: string) => {
    if (!broken && stdin.writable) stdin.write(`${line}\n`)
  }
  // Only process-group mode needs the groups: in the cgroup modes the directories hold every member.
  const unsubscribe =
    containment.info.mode === "process-group"
      ? containment.subscribe((change) =>
          send(`${change.type === "adopted" ? "group" : "ungroup"} ${change.pid}`),
        )
      : () => {}
  let closing: Promise<void> | undefined
  return {
    pid,
    alive: () => child.exitCode === null && child.signalCode === null && isAlive(pid),
    close: () => {
      closing ??= (async () => {
        unsubscribe()
        stdin.end()
        let timer: ReturnType<typeof setTimeout> | undefined
        const late = new Promise<"late">((resolve) => {
          timer = setTimeout(() => resolve("late"), closeWithinMs)
        })
        const outcome = await Promise.race([gone, late])
        clearTimeout(timer)
        if (outcome === "late") {
          throw new ContainmentError({
            message: `SAM's reaper (pid ${pid}) did not finish its sweep within ${closeWithinMs / 1000} s`,
          })
        }
      })()
      return closing
    },
  }
}

export interface SweepReport {
  /** Why nothing was done (the recorded SAM is still running), when so. */
  readonly skipped?: string
  readonly killed: ReadonlyArray<number>
  readonly removed: ReadonlyArray<string>
  /** Directories that could not be removed (a process in uninterruptible sleep) or were refused. */
  readonly left: ReadonlyArray<string>
}

/**
 * The next start's cleanup after a SAM whose reaper died with it: given what that SAM recorded,
 * kill what is left of it and remove its cgroup directories. Nothing happens while the recorded
 * SAM still runs. Only directories named `sam-<samId>` are touched.
 */
export const sweepLeftovers = async (record: ContainmentRecord): Promise<SweepReport> => {
  if (isAlive(record.samPid) && processStartTime(record.samPid) === record.samStartTime) {
    return {
      skipped: `SAM ${record.samId} (pid ${record.samPid}) is still running`,
      killed: [],
      removed: [],
      left: [],
    }
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(record.samId)) {
    throw new ContainmentError({
      message: `recorded SAM id "${record.samId}" is not one SAM makes: not sweeping`,
    })
  }
  const child = spawn("/bin/sh", [script, record.samId, ...record.cgroupDirs], {
    cwd: "/",
    env: reaperEnvironment(),
    stdio: ["ignore", "pipe", "pipe"],
  })
  let out = ""
  let err = ""
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString()
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", (error) =>
      reject(new ContainmentError({ message: `cannot run the sweep (/bin/sh ${script}): ${error.message}` })),
    )
    child.once("close", (status) => resolve(status))
  })
  if (code !== 0) {
    throw new ContainmentError({
      message: `the sweep after SAM ${record.samId} failed (exit ${code}): ${err.trim()}`,
    })
  }
  const killed = new Set<number>()
  const removed: string[] = []
  const left: string[] = []
  for (const line of out.split("\n")) {
    const [word, ...rest] = line.split(" ")
    const value = rest.join(" ")
    if (word === "killed" && rest[0] !== "group") killed.add(Number(value))
    else if (word === "removed") removed.push(value)
    else if (word === "left" || word === "refused") left.push(value)
  }
  return { killed: [...killed], removed, left }
}
