// The bubblewrap command line around a sandboxed agent's Node (pure). Inside: its own PID, IPC,
// mount and cgroup namespaces; a read-only root holding only Node and its libraries, what the
// agent may read (read-only) and its data dir (writable for `standard`); no network unless it
// needs it; no capabilities, no new privileges, killed with its parent. Node's permission model still runs
// inside. The result is what the process driver spawns; the containment cell wraps it in turn.
import type { RuntimeFile } from "../../os/bubblewrap.ts"
import { namespaceFlags } from "../../os/bubblewrap.ts"

export interface WallPlan {
  readonly bwrap: string
  /** The Node binary and its shared libraries. */
  readonly runtimeFiles: ReadonlyArray<RuntimeFile>
  /** What the agent may read: its directory, SAM's SDK and the packages it loads. */
  readonly reads: ReadonlyArray<string>
  readonly dataDir: string
  /** `standard`: the data dir is writable; `strict`: read-only. */
  readonly writableData: boolean
  /** A network namespace of its own (none) unless the agent needs the network. */
  readonly network: boolean
  /** Paths never shown even inside what it may read (SAM's state dir, the vault). */
  readonly hidden: ReadonlyArray<{ readonly path: string; readonly directory: boolean }>
  readonly cwd: string
  /** The unit's stop signal (`SIGTERM`): bwrap itself must survive it so the agent can stop gracefully. */
  readonly stopSignal: string
}

/** Files a resolver reads when the agent may use the network (DNS, /etc/hosts); absent ones are skipped. */
const networkFiles = [
  "/etc/resolv.conf",
  "/etc/hosts",
  "/etc/nsswitch.conf",
  "/etc/gai.conf",
  "/etc/host.conf",
]
/** Read-only system files worth having: where the loader finds libraries, and the local time zone. */
const systemFiles = ["/etc/ld.so.cache", "/etc/localtime"]

const inside = (path: string, dir: string) =>
  path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`)

/** Each path once, parents before children, none inside another one already bound. */
const outermost = (paths: ReadonlyArray<string>): string[] => {
  const distinct = [...new Set(paths.map((p) => (p.length > 1 ? p.replace(/\/+$/, "") : p)))]
  return distinct.filter((p) => !distinct.some((other) => other !== p && inside(p, other))).sort()
}

/** bwrap's arguments (everything before the command). */
export const wallArgs = (plan: WallPlan): string[] => {
  // The data dir is bound on its own, last.
  const reads = outermost(plan.reads.filter((p) => p !== plan.dataDir))
  const visible = [...reads, ...plan.runtimeFiles.map((f) => f.target)]
  const args = [
    ...namespaceFlags,
    ...(plan.network ? [] : ["--unshare-net"]),
    "--cap-drop",
    "ALL",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    ...plan.runtimeFiles.flatMap((f) => ["--ro-bind", f.source, f.target]),
    ...systemFiles.flatMap((f) => ["--ro-bind-try", f, f]),
    ...(plan.network ? networkFiles.flatMap((f) => ["--ro-bind-try", f, f]) : []),
    ...reads.flatMap((p) => ["--ro-bind", p, p]),
  ]
  // SAM's secrets inside something bound (an agent directory holding the state dir): covered over.
  const covers = plan.hidden.filter(({ path }) => visible.some((v) => inside(path, v)))
  for (const { path, directory } of covers)
    args.push(...(directory ? ["--tmpfs", path] : ["--ro-bind", "/dev/null", path]))
  // After the covers, so it stands even inside a hidden state dir.
  args.push(plan.writableData ? "--bind" : "--ro-bind", plan.dataDir, plan.dataDir)
  // The root and the covers are tmpfs: read-only, or the agent could fill memory through them.
  for (const { path, directory } of covers) if (directory) args.push("--remount-ro", path)
  args.push("--remount-ro", "/", "--chdir", plan.cwd)
  return args
}

/** Signals bwrap ignores (the shell's `trap ""` is inherited; Node resets its own at start). */
const survivedSignals = (stopSignal: string): string[] => {
  const names = new Set(["HUP", "INT", "QUIT", "TERM", "USR1", "USR2", stopSignal.replace(/^SIG/, "")])
  for (const unstoppable of ["KILL", "STOP", "CONT"]) names.delete(unstoppable)
  return [...names]
}

/**
 * The command to spawn: a POSIX sh that makes bwrap ignore SAM's stop signal (SAM signals every
 * process of the cell: bwrap dying first would SIGKILL the agent through --die-with-parent
 * before its graceful stop), then execs bwrap, which runs `command args` inside the walls.
 */
export const walledCommand = (
  plan: WallPlan,
  command: string,
  args: ReadonlyArray<string>,
): { command: string; args: string[] } => ({
  command: "/bin/sh",
  args: [
    "-c",
    `trap '' ${survivedSignals(plan.stopSignal).join(" ")}; exec "$@"`,
    "sam-sandbox",
    plan.bwrap,
    ...wallArgs(plan),
    "--",
    command,
    ...args,
  ],
})
