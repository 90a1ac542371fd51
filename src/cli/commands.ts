// The command table of `sam`: names, help text and option specs only, so that --help, --version,
// did-you-mean and usage errors load nothing else. Each command's body is imported by `load` when
// it runs. Add a command by writing <name>Command.ts (exporting its run) and listing it here.
// status, ps, the lifecycle commands, scale, events, logs, crashes, alerts, invoke, capabilities,
// reload and dashboard talk to a running SAM's control API (controlClient.ts).

import type { Command, OptionSpec } from "./command.ts"
import { apiOptions, configOption, jsonOption, setOption } from "./options.ts"

const stopOptions: Readonly<Record<string, OptionSpec>> = {
  force: { type: "boolean", description: "Kill at once (SIGKILL) instead of a graceful stop" },
  timeout: {
    type: "string",
    placeholder: "seconds",
    description: "Grace before the kill (default: the unit's)",
  },
}

/** Which units `all` takes (lifecycleCommands.ts allApplies). */
const allDescription = {
  stop: "not stopped",
  restart: "running (one an operator stopped stays stopped)",
  suspend: "running",
  resume: "suspended",
} as const

const lifecycle = (
  name: "stop" | "restart" | "suspend" | "resume",
  summary: string,
  options: Readonly<Record<string, OptionSpec>> = {},
): Command => ({
  name,
  summary,
  args: "<id>... | all",
  description:
    `${summary}, through the running SAM's control API; waits until the command took effect.\n` +
    "Several ids are taken one at a time, dependencies first (stop, suspend: dependents first); `all`:\n" +
    `every unit ${allDescription[name]}. One refused does not stop the rest (exit 1 then).\n` +
    "Reaches SAM at SAM_URL, else where the config says (token: SAM_TOKEN, role operator or admin)." +
    (name === "stop" ? "\nTo stop SAM itself with every unit: `sam shutdown`." : ""),
  options: { ...apiOptions, ...options },
  positionals: { min: 1, max: 1000 },
  load: () => import("./lifecycleCommands.ts").then((m) => m.lifecycleRun(name)),
})

const start: Command = {
  name: "start",
  summary: "Run SAM in the foreground (or, with ids, start units of the running SAM)",
  startsDaemon: true,
  args: "[<id>... | all]",
  positionals: { min: 0, max: 1000 },
  description:
    "Run SAM in the foreground: load and validate the configuration, start every enabled\n" +
    "agent and service in dependency order, and serve the control API until SIGINT, SIGTERM or\n" +
    "SIGHUP (its terminal closed), which stop every unit gracefully, then SAM. With -d it runs in\n" +
    "the background instead: the command returns once the units are up (`sam shutdown` stops it).\n" +
    "An invalid configuration is reported in full and nothing starts (exit 2).\n" +
    "With ids: start those agents and services of the running SAM, dependencies first; `all`: every\n" +
    "unit not running (SAM_URL, token SAM_TOKEN). One refused does not stop the rest (exit 1 then).",
  options: {
    config: configOption,
    set: setOption,
    host: {
      type: "string",
      placeholder: "host",
      description: "Control API address (same as --set api.host=...)",
    },
    port: {
      type: "string",
      placeholder: "port",
      description: "Control API port, 0 for any free port (--set api.port=...)",
    },
    url: {
      type: "string",
      placeholder: "url",
      description: "With ids: the running SAM's API URL (default SAM_URL)",
    },
    "no-watch": {
      type: "boolean",
      description: "Do not reload when a config file changes; only `sam reload` applies edits",
    },
    detach: {
      type: "boolean",
      short: "d",
      description: "Run SAM in the background: return once its units are up (`sam shutdown` stops it)",
    },
  },
  load: () => import("./startCommand.ts").then((m) => m.run),
}

const validate: Command = {
  name: "validate",
  summary: "Check the configuration without starting anything",
  description:
    "Check the configuration without starting anything. Every problem is listed with its file,\n" +
    "path and line:column; the exit code is 2 when there is any, else 0, and each unit's restart\n" +
    "limits are listed (its own intensity and its supervision group's). Warnings follow, also\n" +
    "after problems. Secrets that cannot be resolved yet (no vault, unset variable) are warnings\n" +
    "unless --strict-secrets is given.",
  options: {
    config: configOption,
    set: setOption,
    "strict-secrets": {
      type: "boolean",
      description: `Treat unresolvable \${env.X} / \${vault.x} references as errors`,
    },
  },
  load: () => import("./validateCommand.ts").then((m) => m.run),
}

const config: Command = {
  name: "config",
  summary: "Inspect the configuration (config print)",
  subcommands: [
    {
      name: "print",
      summary: "Show the merged configuration and where each value came from",
      description:
        "Show the merged configuration (all layers, defaults filled, paths absolute) as YAML with\n" +
        "the layer of each value as a comment (defaults, defaults.json, the main file, system.yaml,\n" +
        "local-overrides.yaml, env, cli). Resolved secrets are shown as ***. Plugins found in the\n" +
        "project's plugins/ folder are listed too, marked as auto-loaded.",
      options: {
        config: configOption,
        set: setOption,
        json: { type: "boolean", description: "Print JSON (without origins) instead of YAML" },
      },
      load: () => import("./configCommand.ts").then((m) => m.runPrint),
    },
  ],
}

const schema: Command = {
  name: "schema",
  summary: "Write the JSON Schema of config files (for editor completion)",
  description:
    "Write the JSON Schema (draft 2020-12) of SAM config files, generated from the same schema\n" +
    "that validates them. Reference it from YAML with\n" +
    "  # yaml-language-server: $schema=<path>/sam.schema.json",
  options: {
    out: {
      type: "string",
      short: "o",
      placeholder: "file",
      description: "Write to this file instead of stdout",
    },
  },
  load: () => import("./schemaCommand.ts").then((m) => m.run),
}

const vaultOptions = { config: configOption }
const secrets: Command = {
  name: "secrets",
  summary: "Manage the encrypted secrets vault (set, get, list, rm)",
  description:
    `Manage the encrypted local vault read by \${vault.key} references in the config.\n` +
    "The vault is security.vault.path (default <state_dir>/vault.json); its key is SAM_VAULT_KEY\n" +
    "or security.vault.key_file (default <state_dir>/vault.key, must be mode 0600).",
  subcommands: [
    {
      name: "set",
      args: "<key> [value]",
      summary: "Store a secret (value read from stdin when omitted)",
      description:
        "Store a secret in the vault, encrypted with AES-256-GCM. Without a value it is read from\n" +
        "stdin (safer: it stays out of shell history). The key comes from SAM_VAULT_KEY or the key\n" +
        "file (mode 0600); when neither exists a new key file is created.",
      options: vaultOptions,
      positionals: { min: 1, max: 2 },
      load: () => import("./secretsCommand.ts").then((m) => m.runSet),
    },
    {
      name: "get",
      args: "<key>",
      summary: "Print a secret's value",
      options: vaultOptions,
      positionals: { min: 1, max: 1 },
      load: () => import("./secretsCommand.ts").then((m) => m.runGet),
    },
    {
      name: "list",
      summary: "List the names of stored secrets (never their values)",
      options: vaultOptions,
      load: () => import("./secretsCommand.ts").then((m) => m.runList),
    },
    {
      name: "rm",
      args: "<key>",
      summary: "Remove a secret",
      options: vaultOptions,
      positionals: { min: 1, max: 1 },
      load: () => import("./secretsCommand.ts").then((m) => m.runRm),
    },
  ],
}

const status: Command = {
  name: "status",
  summary: "Show the running SAM's health, resources and units",
  description:
    "Show the running SAM: overall health, uptime, resources, then the table of `sam ps`.\n" +
    "Reaches SAM at SAM_URL, else where the config says (token: SAM_TOKEN).",
  options: { ...apiOptions, json: jsonOption },
  load: () => import("./statusCommand.ts").then((m) => m.runStatus),
}

const ps: Command = {
  name: "ps",
  summary: "List the agents and services of the running SAM",
  args: "[<id>...]",
  positionals: { min: 0, max: 1000 },
  description:
    "List every agent and service of the running SAM: id, kind, runtime, state, readiness, instances,\n" +
    "restarts (since SAM started), uptime, pid (its first instance's), CPU and memory (all instances).\n" +
    "With ids, only those units. Reaches SAM at SAM_URL, else where the config says (token: SAM_TOKEN).",
  options: { ...apiOptions, json: jsonOption },
  load: () => import("./statusCommand.ts").then((m) => m.runPs),
}

const scale: Command = {
  name: "scale",
  summary: "Run n instances of a service of the running SAM",
  args: "<id> <n>",
  description:
    "Run <n> instances of a service of the running SAM (0 to its scaling.max_instances): new ones\n" +
    "start, the highest-numbered beyond <n> are drained, stopped and released. A service that\n" +
    "autoscales goes on from <n> after its cooldown, within min_instances..max_instances.\n" +
    "Reaches SAM at SAM_URL, else where the config says (token: SAM_TOKEN, role operator or admin).",
  options: { ...apiOptions },
  positionals: { min: 2, max: 2 },
  load: () => import("./scaleCommand.ts").then((m) => m.run),
}

const events: Command = {
  name: "events",
  summary: "Follow the running SAM's events live (Ctrl+C ends)",
  description:
    "Follow the running SAM's events live: a snapshot of every unit, then lifecycle transitions,\n" +
    "health changes, supervisor decisions and plugin events as they happen. Ctrl+C ends.",
  options: { ...apiOptions, json: { type: "boolean", description: "Print each event as a JSON line" } },
  load: () => import("./eventsCommand.ts").then((m) => m.run),
}

const invoke: Command = {
  name: "invoke",
  summary: "Invoke a capability of the running SAM",
  args: "<capability> <json>",
  description:
    "Invoke a capability on the agent the running SAM routes it to, with <json> as its input,\n" +
    `e.g. sam invoke text_summarization '{"text": "..."}'. The output is printed on stdout.`,
  options: {
    ...apiOptions,
    timeout: { type: "string", placeholder: "seconds", description: "Deadline of the call (default 60)" },
    stream: { type: "boolean", description: "Print streamed chunks as they arrive" },
  },
  positionals: { min: 2, max: 2 },
  load: () => import("./invokeCommand.ts").then((m) => m.run),
}

const logs: Command = {
  name: "logs",
  summary: "Show (and with -f follow) units' output",
  args: "[<id>...]",
  description:
    "Show the last lines of output (stdout and stderr) of the given agents and services of the running\n" +
    "SAM, or of every unit, merged by time and prefixed with the unit when there are several.\n" +
    "With -f, keep printing new lines as they come, across restarts of the units, until Ctrl+C.\n" +
    "With -t, each line starts with the time SAM read it, in UTC, before the unit:\n" +
    "  2026-12-03T08:45:12.345Z web#1 | listening on :8080\n" +
    "SAM keeps them in <state_dir>/logs/<id>.log, rotated by monitoring.logs.max_file_mb and max_files.",
  positionals: { min: 0, max: 10_000 },
  options: {
    ...apiOptions,
    follow: { type: "boolean", short: "f", description: "Keep printing new lines (Ctrl+C ends)" },
    timestamps: {
      type: "boolean",
      short: "t",
      description: "Start each line with the time SAM read it (ISO 8601 UTC with ms; not with --json)",
    },
    lines: {
      type: "string",
      short: "n",
      placeholder: "N",
      description: "The last N lines of each unit (default 100; 0 with -f: only new lines)",
    },
    since: {
      type: "string",
      placeholder: "when",
      description: "Only lines since a duration back (10m, 1h30m, 2d) or an ISO time",
    },
    grep: {
      type: "string",
      placeholder: "regex",
      description: "Only lines matching this regular expression",
    },
    stream: { type: "string", placeholder: "stdout|stderr", description: "Only this stream" },
    instance: { type: "string", placeholder: "N", description: "Only this instance of each unit" },
    json: {
      type: "boolean",
      description: "Print each line as JSON (unit, seq, time, instance, stream, line, fields)",
    },
  },
  load: () => import("./logsCommand.ts").then((m) => m.run),
}

const crashes: Command = {
  name: "crashes",
  summary: "List crash reports (sam crashes show <id> prints one)",
  args: "[<unit>]",
  description:
    "List the running SAM's crash reports, newest first: one for every unexpected exit of a unit and\n" +
    "every kill for a limit (liveness, heartbeat, memory). `sam crashes show <id>` prints one report\n" +
    "with the last lines the unit printed. Kept per monitoring.crash_reports (count and age).",
  positionals: { min: 0, max: 1 },
  options: {
    ...apiOptions,
    since: {
      type: "string",
      placeholder: "when",
      description: "Only reports since a duration back (2h, 7d) or an ISO time",
    },
    limit: { type: "string", placeholder: "N", description: "At most N reports (default 50)" },
    json: { type: "boolean", description: "Print JSON" },
  },
  load: () => import("./crashesCommand.ts").then((m) => m.runList),
  subcommands: [
    {
      name: "show",
      summary: "Print one crash report with the last lines the unit printed",
      args: "<id>",
      options: { ...apiOptions, json: { type: "boolean", description: "Print JSON" } },
      positionals: { min: 1, max: 1 },
      load: () => import("./crashesCommand.ts").then((m) => m.runShow),
    },
  ],
}

const alerts: Command = {
  name: "alerts",
  summary: "List the running SAM's alerts (firing, pending and recent)",
  description:
    "List the alerts of the running SAM's monitoring.alerts rules: those firing and pending now, then\n" +
    "the recent ones from the alert history (resolved), newest first.",
  options: {
    ...apiOptions,
    limit: { type: "string", placeholder: "N", description: "At most N recent alerts (default 50)" },
    json: jsonOption,
  },
  load: () => import("./alertsCommand.ts").then((m) => m.run),
}

const capabilities: Command = {
  name: "capabilities",
  summary: "List the running SAM's capabilities, their providers and readiness",
  description:
    "List every capability of the running SAM with each provider (agent instance or plugin), its\n" +
    "state, whether SAM routes calls to it now, and the calls it is serving. Capabilities that\n" +
    "configured agents declare are listed even while none of them runs.",
  options: { ...apiOptions, json: jsonOption },
  load: () => import("./capabilitiesCommand.ts").then((m) => m.run),
}

const reload: Command = {
  name: "reload",
  summary: "Reload the running SAM's configuration",
  description:
    "Make the running SAM read its configuration files again and apply the difference: new units start,\n" +
    "removed ones stop, changed ones restart; the log level, alert rules and API tokens apply at once.\n" +
    "Other settings of api, runtime, security and monitoring are named as needing a restart of SAM.\n" +
    "An invalid config changes nothing. Needs an admin token.",
  options: { ...apiOptions },
  load: () => import("./reloadCommand.ts").then((m) => m.run),
}

const dashboard: Command = {
  name: "dashboard",
  summary: "Print the running SAM's dashboard login link",
  description:
    "Print the login link of the running SAM's dashboard, http://<host>:<port>/?token=..., with the\n" +
    "token the CLI uses (SAM_TOKEN, else the local token in <state_dir>/token). Opening it signs a\n" +
    "browser in with a session cookie and drops the token from the address bar. The link is a\n" +
    "credential: do not share it.",
  options: { ...apiOptions },
  load: () => import("./dashboardCommand.ts").then((m) => m.run),
}

const startup: Command = {
  name: "startup",
  summary: "Print a systemd unit that runs this project's SAM at boot (PM2's startup)",
  description:
    "Print a systemd unit that runs `sam start` for this project's config at boot, with the Node and\n" +
    "the sam this command runs on: SIGTERM to SAM alone (KillMode=mixed), which stops its units with\n" +
    "their grace; a stop bound of runtime.shutdown_timeout_seconds + 15 s; restarted on failure; its\n" +
    "own cgroup subtree (Delegate=yes). Nothing is installed: stderr says how (root for a system\n" +
    "unit; --user for a user unit). --out writes it to a file instead of stdout.",
  options: {
    config: configOption,
    set: setOption,
    user: { type: "boolean", description: "A user unit (systemctl --user) instead of a system one" },
    out: { type: "string", placeholder: "file", description: "Write the unit there instead of stdout" },
  },
  load: () => import("./startupCommand.ts").then((m) => m.run),
}

const shutdown: Command = {
  name: "shutdown",
  summary: "Stop the running SAM: every unit, then SAM itself",
  description:
    "Stop the running SAM as SIGTERM or Ctrl+C would: every unit in reverse dependency order, then\n" +
    "the control API and SAM itself; waits until SAM's process is gone (on this machine). Needs an\n" +
    "admin token (the local token is one). With no SAM running it says so and exits 0.",
  options: {
    ...apiOptions,
    timeout: {
      type: "string",
      placeholder: "seconds",
      description: "How long to wait for SAM to be gone (default 120); it goes on stopping after",
    },
  },
  load: () => import("./shutdownCommand.ts").then((m) => m.run),
}

const audit: Command = {
  name: "audit",
  summary: "Check SAM's audit log",
  description: "SAM records every lifecycle command and every mutating API call in a hash-chained audit log.",
  subcommands: [
    {
      name: "verify",
      summary: "Check that no audit entry was changed, removed or reordered",
      description:
        "Check the audit log's hash chain: every entry holds the hash of the one before it, so a changed,\n" +
        "removed or reordered entry breaks the chain at that line (exit 1, naming it). Exit 0 when intact.",
      options: {
        file: {
          type: "string",
          placeholder: "path",
          description: "Audit log to check (default <state_dir>/audit.log)",
        },
        config: configOption,
      },
      load: () => import("./auditCommand.ts").then((m) => m.runVerify),
    },
  ],
}

/** `sam help [command]`: the same text as `sam [command] --help` (run.ts answers it). */
export const helpCommand: Command = {
  name: "help",
  summary: "Show help for sam or for a command",
  args: "[command]",
  description: "Show the help of sam, or of a command: `sam help config print` is `sam config print --help`.",
  positionals: { min: 0, max: 8 },
}

export const sam: Command = {
  name: "sam",
  summary: "SAM, the Service and Agent Manager",
  description:
    "SAM, the Service and Agent Manager: runs and supervises AI agents and the services they need,\n" +
    "from one typed, layered configuration (sam.config.ts).",
  options: { version: { type: "boolean", short: "v", description: "Print the version" } },
  subcommands: [
    start,
    validate,
    config,
    schema,
    secrets,
    status,
    ps,
    lifecycle("stop", "Stop an agent or service of the running SAM", stopOptions),
    lifecycle("restart", "Restart an agent or service of the running SAM"),
    lifecycle("suspend", "Suspend an agent or service of the running SAM (SIGSTOP, like docker pause)"),
    lifecycle("resume", "Resume a suspended agent or service of the running SAM"),
    scale,
    events,
    logs,
    crashes,
    alerts,
    invoke,
    capabilities,
    reload,
    dashboard,
    startup,
    shutdown,
    audit,
    helpCommand,
  ],
}
