// Commands people bring from PM2 and Docker Compose, and SAM's command for each: `sam list` says
// `sam ps` rather than only "unknown command". Never a command that starts SAM in its place.
const peerCommands: Readonly<Record<string, string>> = {
  list: "'sam ps' (PM2's list)",
  ls: "'sam ps'",
  jlist: "'sam ps --json' (PM2's jlist)",
  monit: "'sam status', or 'sam dashboard' for the live page (PM2's monit)",
  describe: "'sam ps <id>' and 'sam crashes <id>' (PM2's describe)",
  show: "'sam ps <id>' and 'sam crashes <id>' (PM2's show)",
  up: "'sam start' in the foreground, 'sam start -d' detached (Compose's up)",
  down: "'sam shutdown': every unit, then SAM (Compose's down)",
  kill: "'sam shutdown' (PM2's kill); 'sam stop <id>' for one unit",
  delete: "'sam stop <id>', then remove it from the config and 'sam reload' (PM2's delete)",
  rm: "'sam stop <id>', then remove it from the config and 'sam reload'",
  pause: "'sam suspend' (Compose's pause)",
  unpause: "'sam resume' (Compose's unpause)",
  top: "'sam ps' (CPU and memory of each unit)",
  flush: "none: SAM rotates logs itself (monitoring.logs.max_file_mb and max_files)",
  save: "none needed: SAM keeps what an operator stopped or scaled across its restarts",
  resurrect: "'sam start' (SAM restores what an operator stopped or scaled)",
}

/** `; SAM's command for it is 'sam ps' (PM2's list)` for a peer's command name, else "". */
export const peerCommandHint = (name: string): string => {
  const ours = peerCommands[name]
  return ours === undefined ? "" : `; SAM's command for it is ${ours}`
}
