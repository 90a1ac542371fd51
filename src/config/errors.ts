// ConfigError: every problem found while loading a config, each located by file, path and (for
// YAML/JSON) line:column. Produced by load.ts; the CLI prints format() and exits 2.

export interface ConfigIssue {
  /** File (relative to the working directory when inside it) or layer label ("env SAM__a__b", "cli --set a.b"). */
  readonly file: string
  /** Dotted path into the config (`services.qdrant.restart_policy`); empty for whole-file problems. */
  readonly path: string
  readonly line?: number
  readonly column?: number
  readonly expected?: string
  readonly found?: string
  readonly message: string
}

/** One line: `system.yaml:12:7 services.qdrant.port: expected a number, found "x"`. */
export const formatIssue = (issue: ConfigIssue): string => {
  const where =
    issue.line === undefined
      ? issue.file
      : `${issue.file}:${issue.line}${issue.column === undefined ? "" : `:${issue.column}`}`
  const what =
    issue.expected !== undefined
      ? `expected ${issue.expected}, found ${issue.found ?? "nothing"}`
      : issue.message
  return issue.path === "" ? `${where} ${what}` : `${where} ${issue.path}: ${what}`
}

export class ConfigError extends Error {
  readonly _tag = "ConfigError"
  readonly issues: ReadonlyArray<ConfigIssue>

  constructor(issues: ReadonlyArray<ConfigIssue>) {
    const count = issues.length
    super(
      `invalid configuration (${count} problem${count === 1 ? "" : "s"}):\n${issues.map(formatIssue).join("\n")}`,
    )
    this.name = "ConfigError"
    this.issues = issues
  }

  /** One line per issue. */
  format(): string {
    return this.issues.map(formatIssue).join("\n")
  }
}

export const isConfigError = (u: unknown): u is ConfigError => u instanceof ConfigError

/** A problem with the vault itself (missing key, bad permissions, wrong key, corrupt file). */
export class VaultError extends Error {
  readonly _tag = "VaultError"
  constructor(message: string) {
    super(message)
    this.name = "VaultError"
  }
}
