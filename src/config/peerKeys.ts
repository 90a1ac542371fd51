// Keys people bring from PM2, Docker Compose and Kubernetes, and where SAM has the same thing:
// an unknown `instances` on a service says `scaling.min_instances`, not just "unknown key".
type Kind = "services" | "agents"

const unitKeys: Readonly<Record<Kind, Readonly<Record<string, string>>>> = {
  services: {
    instances: "scaling.min_instances",
    replicas: "scaling.min_instances",
    script: "deployment.command",
    command: "deployment.command",
    args: "deployment.args",
    cwd: "deployment.cwd",
    env: "deployment.env",
    environment: "deployment.env",
    port: "deployment.port",
    ports: "deployment.port (a process) or deployment.ports (a container)",
    image: "deployment.image",
    volumes: "deployment.volumes",
    healthcheck: "health_check",
    restart: "restart_policy",
    max_restarts: "restart_policy.max_restarts",
    restart_delay: "restart_policy.backoff_seconds",
    kill_timeout: "stop.grace_seconds",
    stop_grace_period: "stop.grace_seconds",
    stop_signal: "stop.signal",
    autorestart: "restart_policy",
    exec_mode: "scaling.min_instances (each instance is its own process on its own port)",
    max_memory_restart: "resources.max_memory_mb, on a process service's whole process tree",
  },
  agents: {
    script: "path",
    env: "environment",
    healthcheck: "health_check",
    restart: "restart_policy",
    max_restarts: "restart_policy.max_restarts",
    restart_delay: "restart_policy.backoff_seconds",
    max_memory_restart: "resources.max_memory_mb",
    autorestart: "restart_policy",
    kill_timeout: "stop.grace_seconds",
    stop_signal: "stop.signal",
  },
}

// Compose's other keys of a long-syntax `depends_on` entry (services.<id>.depends_on.<dep>.<key>).
const dependencyHints: Readonly<Record<string, string>> = {
  restart: " (SAM's key for it is the unit's dependency_restart: restart, for all its dependencies)",
  required: " (SAM has none: every dependency is required; leave an optional one out of depends_on)",
}

/** ` (SAM's key for it is "x")` for an unknown key of a unit that another tool spells so, else "". */
export const peerKeyHint = (path: ReadonlyArray<PropertyKey>): string => {
  // Inside `scaling`, the count people write without its min_/max_ prefix.
  if (path.length === 4 && path[0] === "services" && path[2] === "scaling") {
    const key = String(path[3])
    if (key === "instances" || key === "replicas" || key === "count")
      return " (SAM's key for it is scaling.min_instances, and scaling.max_instances for the most it may run)"
  }
  if (path.length === 5 && (path[0] === "services" || path[0] === "agents") && path[2] === "depends_on") {
    return dependencyHints[String(path[4])] ?? ""
  }
  if (path.length !== 3) return ""
  const [section, , key] = path
  if (section !== "services" && section !== "agents") return ""
  const ours = unitKeys[section][String(key)]
  return ours === undefined ? "" : ` (SAM's key for it is ${ours})`
}
