// SAM's state dir holds what other local users must not read: the runtime store (crash reports
// quote units' output), agents' data dirs, logs, the admin token. Made 0700, and narrowed to 0700
// when SAM owns it and it is wider (an earlier version, or a `mkdir` by hand). A dir another
// user owns is refused: its owner could replace what SAM and the CLI read there (api.json, which
// tells the CLI where to send the admin token), as sshd refuses a home it does not trust.
import { chmodSync, mkdirSync, statSync } from "node:fs"

/** Make `dir` private to this user; a problem to report (and nothing done) when another owns it. */
export const ensurePrivateDir = (dir: string): string | undefined => {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const { mode, uid } = statSync(dir)
  const me = process.getuid?.()
  if (me !== undefined && uid !== me)
    return `state dir ${dir} belongs to uid ${uid}, not to uid ${me} that SAM runs as: its owner could replace what SAM and \`sam\` read there (api.json, which tells the CLI where to send the admin token); give SAM a state dir of its own user (runtime.state_dir)`
  if ((mode & 0o077) !== 0) chmodSync(dir, mode & 0o700)
  return undefined
}
