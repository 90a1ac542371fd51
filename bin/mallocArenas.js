// Run by bin/sam.js before the CLI loads. glibc gives each thread that allocates an arena of its
// own and keeps in it what V8's helper threads freed; with two arenas the daemon holds ~6 MB less
// (bench/RESULTS.md, "Findings"). The limit only takes at exec, so `sam start` re-executes itself
// once, same pid (process.execve: one more Node start, which compileCache.js's code cache wins
// back), and drops the variable again at once: the units it starts do not inherit it. A
// MALLOC_ARENA_MAX of the user's own is kept as it is; a failed exec leaves SAM as it was started.
const arenas = "MALLOC_ARENA_MAX"
if (process.env.SAM_REEXECUTED === arenas) {
  delete process.env.SAM_REEXECUTED
  delete process.env[arenas]
} else if (
  process.platform === "linux" &&
  process.argv[2] === "start" &&
  process.env[arenas] === undefined &&
  typeof process.execve === "function"
) {
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      ...process.env,
      [arenas]: "2",
      SAM_REEXECUTED: arenas,
    })
  } catch {
    // an optimization only
  }
}
