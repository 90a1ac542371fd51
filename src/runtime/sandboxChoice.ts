// How the `sandbox` agent runtime walls agents in on this host, decided once from
// security.sandbox and what bubblewrap.ts finds: bubblewrap's namespaces around Node's permission
// model, or the permission model alone (weaker: docs/SECURITY.md). Says so in one line for the
// start banner and `sam validate`, and which agents must then refuse to start.
import { type BubblewrapHost, type BubblewrapProbe, detectBubblewrap } from "./os/bubblewrap.ts"

/** security.sandbox: auto uses bubblewrap where it works; bubblewrap requires it; permission-model never uses it. */
export type SandboxMode = "auto" | "bubblewrap" | "permission-model"

export interface SandboxPolicy {
  readonly mode?: SandboxMode
  /** security.allow_weak_sandbox: strict agents may run on the permission model alone. */
  readonly allowWeak?: boolean
  /** SAM's own secrets (state dir, vault): hidden from a walled agent even inside what it may read. */
  readonly hiddenPaths?: ReadonlyArray<string>
}

export interface SandboxChoice {
  readonly mode: SandboxMode
  /** Set when agents get bubblewrap's walls. */
  readonly walls: BubblewrapHost | undefined
  /** One line: what contains sandboxed agents here, and why. */
  readonly detail: string
  readonly allowWeak: boolean
  readonly hiddenPaths: ReadonlyArray<string>
}

const lost =
  "agents can see and signal SAM's and every other process of its user, and a `standard` agent allowed the network reaches all of it"

/** Decide from `policy` and (unless the mode rules it out) a bubblewrap check. */
export const chooseSandbox = (
  policy: SandboxPolicy = {},
  probe: () => BubblewrapProbe = () => detectBubblewrap(),
): SandboxChoice => {
  const mode = policy.mode ?? "auto"
  const base = { mode, allowWeak: policy.allowWeak ?? false, hiddenPaths: policy.hiddenPaths ?? [] }
  if (mode === "permission-model")
    return {
      ...base,
      walls: undefined,
      detail: `Node's permission model only (security.sandbox: permission-model, no bubblewrap): ${lost}`,
    }
  const found = probe()
  if (found.ok)
    return {
      ...base,
      walls: found.host,
      detail:
        `${found.host.version} (${found.host.path}) around Node's permission model: each agent has its own PID, ` +
        "IPC and mount namespaces (and no network unless it needs it), sees only its own files read-only " +
        "and its data dir, and cannot gain privileges",
    }
  return {
    ...base,
    walls: undefined,
    detail:
      mode === "bubblewrap"
        ? `bubblewrap is required (security.sandbox: bubblewrap) but cannot run: ${found.reason}; sandboxed agents will not start`
        : `WEAK: Node's permission model only, because ${found.reason}; ${lost}`,
  }
}

/**
 * Why an agent of `profile` (runtime `sandbox`) must not start under `choice`, or undefined: with
 * no walls, `security.sandbox: bubblewrap` refuses every profile but trusted, and `strict` refuses
 * unless `security.allow_weak_sandbox` is true.
 */
export const sandboxRefusal = (
  choice: SandboxChoice,
  agent: string,
  profile: "standard" | "strict" | "trusted",
): string | undefined => {
  if (choice.walls !== undefined || profile === "trusted") return undefined
  if (choice.mode === "bubblewrap")
    return (
      `agent "${agent}" needs bubblewrap (security.sandbox: bubblewrap), which cannot run here (${choice.detail}); ` +
      "install bubblewrap, or set security.sandbox: auto to accept Node's permission model alone"
    )
  if (profile === "strict" && !choice.allowWeak)
    return (
      `agent "${agent}" has security_profile strict, which needs bubblewrap's walls, and they are not ` +
      `available here (${choice.detail}); install bubblewrap, or set security.allow_weak_sandbox: true ` +
      "to run it on Node's permission model alone"
    )
  return undefined
}

/** What the refusal rules need of the config: its agents (SamConfig satisfies it). */
export interface AgentsConfig {
  readonly agents: Readonly<
    Record<
      string,
      {
        readonly enabled: boolean
        readonly runtime: string
        readonly security_profile: "standard" | "strict" | "trusted"
      }
    >
  >
}

/** The enabled agents of the `sandbox` runtime. */
export const sandboxedAgents = (config: AgentsConfig): ReadonlyArray<string> =>
  Object.entries(config.agents)
    .filter(([, agent]) => agent.enabled && agent.runtime === "sandbox")
    .map(([id]) => id)

/** Every enabled sandboxed agent that would refuse to start under `choice`, as its refusal. */
export const sandboxRefusals = (config: AgentsConfig, choice: SandboxChoice): ReadonlyArray<string> =>
  sandboxedAgents(config).flatMap((id) => {
    const refusal = sandboxRefusal(choice, id, config.agents[id]?.security_profile ?? "standard")
    return refusal === undefined ? [] : [refusal]
  })
