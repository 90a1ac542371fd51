// SAM's state dir holds what other local users must not read: the runtime store (crash reports
// quote units' output), agents' data dirs, logs, the admin token. Made 0700, and narrowed to 0700
// when SAM owns it and it is wider (an earlier version, or a `mkdir` by hand); a dir someone
// else owns is left as it is (SAM cannot change it, and it is theirs to decide).
import { chmodSync, mkdirSync, statSync } from "node:fs"

export const ensurePrivateDir = (dir: string): void => {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const { mode, uid } = statSync(dir)
  if ((mode & 0o077) !== 0 && uid === process.getuid?.()) chmodSync(dir, mode & 0o700)
}
