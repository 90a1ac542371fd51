// ConfigError: every problem found while loading a config, each located by file, path and (for
// YAML/JSON) line:column. Produced by load.ts; the CLI prints format() and exits 2. VaultError:
// the vault itself cannot be used. Both are tagged (`_tag`), matched with isConfigError/isVaultError.
import * as Data from "effect/Data"
import * as Predicate from "effect/Predicate"

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

/** Every problem of a config, located; `message` lists them, `format()` too without the heading. */
export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly issues: ReadonlyArray<ConfigIssue>
  /** What the checks found besides, that alone would not refuse the config (`sam validate` prints both). */
  readonly warnings: ReadonlyArray<string>
  readonly message: string
}> {
  constructor(issues: ReadonlyArray<ConfigIssue>, warnings: ReadonlyArray<string> = []) {
    const count = issues.length
    super({
      issues,
      warnings,
      message: `invalid configuration (${count} problem${count === 1 ? "" : "s"}):\n${issues.map(formatIssue).join("\n")}`,
    })
  }

  /** One line per issue. */
  format(): string {
    return this.issues.map(formatIssue).join("\n")
  }
}

export const isConfigError = (u: unknown): u is ConfigError => Predicate.isTagged(u, "ConfigError")

/** A problem with the vault itself (missing key, bad permissions, wrong key, corrupt file). */
export class VaultError extends Data.TaggedError("VaultError")<{ readonly message: string }> {
  constructor(message: string) {
    super({ message })
  }
}

export const isVaultError = (u: unknown): u is VaultError => Predicate.isTagged(u, "VaultError")
