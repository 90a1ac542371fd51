// An issue before it is located in a file: path into the merged config plus what went wrong.
// schemaIssues.ts, crossChecks.ts and secrets.ts produce drafts; load.ts turns them into ConfigIssues.

import type { ConfigPath } from "./configPath.ts"

export interface IssueDraft {
  readonly path: ConfigPath
  readonly message: string
  readonly expected?: string
  readonly found?: string
  /** Point at the key itself (unknown keys) rather than its value. */
  readonly atKey?: boolean
}
