// Browser sessions kept in the runtime store (a real state.db in a temp dir): one survives the
// store being closed and opened again, as across a SAM restart, but not a change of the token it
// was signed in with; the table holds no usable secret; expired sessions are pruned; the count is
// bounded. Without a store, the same rules in memory. The real SAM restart in a browser is in
// test/dashboard/browser.test.ts.
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterEach, describe, expect, it } from "vitest"
import { type ApiTokenConfig, Authenticator } from "../../src/api/auth.ts"
import { SessionStore } from "../../src/api/sessions.ts"
import { openRuntimeStore, type RuntimeStore, stateDbFile } from "../../src/runtime/store/runtimeStore.ts"

const ops = { token: "ops-token-4f1c9e2b7a0d", role: "operator" } as const
const watcher = { token: "watch-token-8e3d1a6c5b2f", role: "viewer" } as const

const dirs: string[] = []
const stores: RuntimeStore[] = []
afterEach(() => {
  for (const store of stores.splice(0)) store.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const stateDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "sam-sessions-"))
  dirs.push(dir)
  return dir
}
const open = (dir: string) => {
  const store = openRuntimeStore(dir)
  stores.push(store)
  return store
}
/** A SAM's sessions on `dir` with `tokens` (what startApiServer builds from the daemon's store). */
const sessionsOf = (
  store: RuntimeStore,
  tokens: Record<string, ApiTokenConfig>,
  extra: { now?: () => number; limit?: number } = {},
) => {
  const authenticator = new Authenticator(tokens)
  return new SessionStore({
    credentials: (name) => authenticator.credential(name),
    table: store.browserSessions,
    ...extra,
  })
}

describe("browser sessions in the runtime store", () => {
  it("a session outlives the store being closed and opened again, as across a SAM restart", () => {
    const dir = stateDir()
    const first = open(dir)
    const id = sessionsOf(first, { ops }).create({ name: "ops", role: "operator" })
    first.close()
    const again = sessionsOf(open(dir), { ops })
    expect(again.principal(id)).toEqual({ name: "ops", role: "operator" })
    expect(again.principal(`${id}x`)).toBeUndefined()
  })

  it("a session ends when its token was changed, removed or given another role", () => {
    const dir = stateDir()
    const store = open(dir)
    const before = sessionsOf(store, { ops, watcher })
    const changed = before.create({ name: "ops", role: "operator" })
    const removed = before.create({ name: "watcher", role: "viewer" })
    const demoted = sessionsOf(store, { ops, watcher }).create({ name: "ops", role: "operator" })
    const after = sessionsOf(store, { ops: { ...ops, token: "ops-token-regenerated-91" } })
    expect(after.principal(changed)).toBeUndefined()
    expect(after.principal(removed)).toBeUndefined()
    expect(sessionsOf(store, { ops: { ...ops, role: "viewer" } }).principal(demoted)).toBeUndefined()
    // And they are gone for good: putting the old token back does not revive them.
    expect(store.browserSessions.count()).toBe(0)
    expect(sessionsOf(store, { ops, watcher }).principal(changed)).toBeUndefined()
  })

  it("a regenerated local token (<state_dir>/token) ends the sessions signed in with the old one", () => {
    const store = open(stateDir())
    const local = (token: string) => ({ local: { token, role: "admin" as const } })
    const id = sessionsOf(store, local("a".repeat(43))).create({ name: "local", role: "admin" })
    expect(sessionsOf(store, local("a".repeat(43))).principal(id)).toEqual({ name: "local", role: "admin" })
    expect(sessionsOf(store, local("b".repeat(43))).principal(id)).toBeUndefined()
  })

  it("state.db holds neither the session id nor the token, nor a plain digest of either", () => {
    const dir = stateDir()
    const store = open(dir)
    const id = sessionsOf(store, { ops }).create({ name: "ops", role: "operator" })
    store.close()
    const db = new DatabaseSync(stateDbFile(dir), { readOnly: true })
    const rows = db.prepare("SELECT * FROM browser_sessions").all()
    db.close()
    expect(rows).toHaveLength(1)
    const tokenDigest = createHash("sha256").update(ops.token).digest("hex")
    const stored = JSON.stringify(rows) + readFileSync(stateDbFile(dir), "latin1")
    for (const secret of [id, ops.token, tokenDigest]) expect(stored).not.toContain(secret)
    expect(rows[0]).toMatchObject({ name: "ops", role: "operator" })
  })

  it("prunes expired sessions, at sign-in and when a SAM starts, and keeps at most the limit", () => {
    const dir = stateDir()
    const store = open(dir)
    let now = 1_000_000
    const clock = { now: () => now, limit: 3 }
    const sessions = sessionsOf(store, { ops }, clock)
    const ids = [1, 2, 3, 4].map(() => {
      now += 1
      return sessions.create({ name: "ops", role: "operator" })
    })
    // The fourth pushed out the first (the soonest to expire).
    expect(store.browserSessions.count()).toBe(3)
    expect(sessions.principal(ids[0])).toBeUndefined()
    expect(sessions.principal(ids[3])).toEqual({ name: "ops", role: "operator" })
    now += sessions.lifetimeMs
    sessionsOf(store, { ops }, clock)
    expect(store.browserSessions.count()).toBe(0)
  })

  it("keeps at most 1000 sessions by default", () => {
    const store = open(stateDir())
    const sessions = sessionsOf(store, { ops })
    for (let i = 0; i < 1005; i++) sessions.create({ name: "ops", role: "operator" })
    expect(store.browserSessions.count()).toBe(1000)
  })

  it("without a store, sessions live in memory with the same rules", () => {
    const authenticator = new Authenticator({ ops })
    const sessions = new SessionStore({ credentials: (name) => authenticator.credential(name) })
    const id = sessions.create({ name: "ops", role: "operator" })
    expect(sessions.principal(id)).toEqual({ name: "ops", role: "operator" })
    expect(sessions.size).toBe(1)
    const other = new Authenticator({ ops: { ...ops, token: "ops-token-regenerated-91" } })
    const fresh = new SessionStore({ credentials: (name) => other.credential(name) })
    expect(fresh.principal(id)).toBeUndefined()
  })
})
