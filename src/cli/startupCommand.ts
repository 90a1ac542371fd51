// `sam startup` (described in commands.ts): a systemd unit that runs this project's `sam start` at
// boot, as `pm2 startup` writes one; printed (or written with --out), never installed: that takes
// root, and the operator should read it first. KillMode=mixed: SIGTERM goes to SAM alone, which
// stops its units in reverse dependency order with their own grace; whatever is left when
// TimeoutStopSec passes is SIGKILLed by systemd. Delegate=yes gives SAM a cgroup subtree of its own,
// so its containment uses cgroup v2 cells (docs/CONTAINMENT.md).
import { writeFile } from "node:fs/promises"
import { userInfo } from "node:os"
import { basename, dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { type CommandRun, EXIT_OK, EXIT_USAGE, stringOption } from "./command.ts"
import { loadFromOptions, printWarnings } from "./configOptions.ts"

/** systemd's quoting of one ExecStart word: in double quotes, with `\` and `"` escaped. */
const word = (text: string): string =>
  /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`

/** The name a unit file gets: sam-<the project's folder>, in the characters systemd takes. */
const unitName = (projectDir: string): string =>
  `sam-${basename(projectDir).replace(/[^A-Za-z0-9:_.-]/g, "-") || "project"}`

export const run: CommandRun = async ({ values, io }) => {
  const loaded = await loadFromOptions(io, values)
  if (loaded === undefined) return EXIT_USAGE
  printWarnings(io, loaded.warnings)
  const user = values.user === true
  const projectDir = dirname(loaded.configPath)
  const name = unitName(projectDir)
  // The Node and the `sam` this command runs on: the project's own (node_modules/.bin first).
  const sam = fileURLToPath(new URL("../../bin/sam.js", import.meta.url))
  const node = process.execPath
  // SAM's own bound on stopping its units, plus time for SAM to stop itself.
  const stopSeconds = Math.ceil(loaded.config.runtime.shutdown_timeout_seconds) + 15
  const text = [
    "[Unit]",
    `Description=SAM, the Service and Agent Manager, for ${projectDir}`,
    "After=network.target",
    "",
    "[Service]",
    "Type=simple",
    `WorkingDirectory=${projectDir}`,
    `ExecStart=${[node, sam, "start", "--config", loaded.configPath].map(word).join(" ")}`,
    `ExecReload=${[node, sam, "reload", "--config", loaded.configPath].map(word).join(" ")}`,
    "KillMode=mixed",
    "KillSignal=SIGTERM",
    `TimeoutStopSec=${stopSeconds}`,
    "Restart=on-failure",
    "RestartSec=2",
    "Delegate=yes",
    ...(user ? [] : [`User=${userInfo().username}`]),
    // systemd's PATH has no node_modules/.bin: a unit's `command: node` finds this Node first.
    `Environment=${word(`PATH=${dirname(node)}:/usr/local/bin:/usr/bin:/bin`)}`,
    "# Variables the config reads with ${env.NAME} are not in systemd's environment: set each",
    "# here (Environment=NAME=value) or in a file of your own (EnvironmentFile=/path).",
    "",
    "[Install]",
    `WantedBy=${user ? "default.target" : "multi-user.target"}`,
    "",
  ].join("\n")
  const out = stringOption(values, "out")
  const install = user
    ? `cp ${out ?? `${name}.service`} ~/.config/systemd/user/ && systemctl --user daemon-reload && systemctl --user enable --now ${name}` +
      " (and `loginctl enable-linger` so it starts at boot, not at login)"
    : `sudo cp ${out ?? `${name}.service`} /etc/systemd/system/ && sudo systemctl daemon-reload && sudo systemctl enable --now ${name}`
  if (out === undefined) {
    io.stdout(text)
    io.stderr(`sam: save it as ${name}.service, then: ${install}\n`)
    return EXIT_OK
  }
  await writeFile(resolve(io.cwd, out), text)
  io.stderr(`wrote ${out}; then: ${install}\n`)
  return EXIT_OK
}
