// Browser sessions of the control API (src/api/sessions.ts decides what is valid), kept so a SAM
// restart does not sign everyone out. A row holds no usable secret: the session id's digest, who
// it is (token name, role), its expiry, and a binding to the credential it was made from.

import { int, type Row, text } from "./sqlite.ts"
import type { StoreContext } from "./storeContext.ts"
import type { BrowserSessionRecord } from "./storeTypes.ts"

export interface BrowserSessionsTable {
  insert(session: BrowserSessionRecord): void
  get(idDigest: string): BrowserSessionRecord | undefined
  remove(idDigest: string): void
  /** Drop sessions expired at `now`, then the soonest to expire beyond `keep`; how many went. */
  prune(now: number, keep: number): number
  count(): number
}

const roles = new Set(["viewer", "operator", "admin"])

const fromRow = (row: Row): BrowserSessionRecord => {
  const role = text(row, "role")
  if (!roles.has(role)) throw new Error(`runtime store: browser session with unknown role ${role}`)
  return {
    idDigest: text(row, "id_digest"),
    name: text(row, "name"),
    role: role as BrowserSessionRecord["role"],
    expiresAt: int(row, "expires_at"),
    credential: text(row, "credential"),
  }
}

export const browserSessionsTable = ({ db }: StoreContext): BrowserSessionsTable => {
  const insert = db.prepare(
    "INSERT OR REPLACE INTO browser_sessions (id_digest, name, role, expires_at, credential) VALUES (?, ?, ?, ?, ?)",
  )
  const select = db.prepare("SELECT * FROM browser_sessions WHERE id_digest = ?")
  const remove = db.prepare("DELETE FROM browser_sessions WHERE id_digest = ?")
  const expired = db.prepare("DELETE FROM browser_sessions WHERE expires_at <= ?")
  const beyond = db.prepare(
    `DELETE FROM browser_sessions WHERE id_digest NOT IN
       (SELECT id_digest FROM browser_sessions ORDER BY expires_at DESC LIMIT ?)`,
  )
  const count = db.prepare("SELECT COUNT(*) AS n FROM browser_sessions")
  return {
    insert: (s) => {
      insert.run(s.idDigest, s.name, s.role, s.expiresAt, s.credential)
    },
    get: (idDigest) => {
      const row = select.get(idDigest)
      return row === undefined ? undefined : fromRow(row)
    },
    remove: (idDigest) => {
      remove.run(idDigest)
    },
    prune: (now, keep) => Number(expired.run(now).changes) + Number(beyond.run(Math.max(0, keep)).changes),
    count: () => int(count.get() as Row, "n"),
  }
}
