// The audit log's hash chain: a changed, removed, reordered or cut-off entry is detected and named,
// by verifyAuditLog and by the real `sam audit verify`; a reopened log continues the chain; the
// embedding API's lifecycle commands are recorded too.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditCommands } from "../../src/audit/auditCommands.ts"
import { type AuditEntry, entryHash } from "../../src/audit/auditEntry.ts"
import { AuditLog, headFileOf } from "../../src/audit/auditLog.ts"
import { verifyAuditLog } from "../../src/audit/verifyAudit.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { runSam } from "../cli/runSam.ts"
import { httpCheck, nodeService, survivors } from "../support/runtime.ts"

let dir = ""
let original = ""

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sam-audit-"))
  const log = await AuditLog.open(join(dir, "audit.log"))
  for (let i = 1; i <= 6; i++)
    log.append({
      actor: { name: i % 2 ? "ops" : "admin", role: i % 2 ? "operator" : "admin", via: "api" },
      action: "service.restart",
      target: `svc${i}`,
      result: "ok",
    })
  await log.settled()
  original = await readFile(log.file, "utf8")
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A copy of the six-entry log (and its head file) with `edit` applied to its lines. */
const tampered = async (name: string, edit: (lines: string[]) => string[]): Promise<string> => {
  const file = join(dir, `${name}.log`)
  const lines = original.trimEnd().split("\n")
  await writeFile(file, `${edit(lines).join("\n")}\n`)
  await writeFile(headFileOf(file), await readFile(headFileOf(join(dir, "audit.log")), "utf8"))
  return file
}

const entry = (line: string) => JSON.parse(line) as AuditEntry

describe("the audit chain", () => {
  it("an untouched log verifies, with every entry linked to the one before", async () => {
    expect(await verifyAuditLog(join(dir, "audit.log"))).toMatchObject({
      ok: true,
      entries: 6,
      head: { seq: 6 },
    })
    const lines = original.trimEnd().split("\n").map(entry)
    expect(lines.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6])
    expect(lines.slice(1).map((e) => e.prev)).toEqual(lines.slice(0, -1).map((e) => e.hash))
  })

  it("detects a changed entry at its line", async () => {
    const file = await tampered("changed", (lines) =>
      lines.map((l, i) => (i === 2 ? l.replace('"target":"svc3"', '"target":"svc9"') : l)),
    )
    expect(await verifyAuditLog(file)).toEqual({
      ok: false,
      entries: 2,
      line: 3,
      reason: "entry #3 was changed (its hash does not match its content)",
    })
  })

  it("detects a changed entry whose hash was recomputed, at the next line", async () => {
    const file = await tampered("rehashed", (lines) =>
      lines.map((l, i) => {
        if (i !== 2) return l
        const { hash: _, ...body } = { ...entry(l), result: "refused" as const }
        return JSON.stringify({ ...body, hash: entryHash(body) })
      }),
    )
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      line: 4,
      reason: "entry #4 does not follow the entry before it (prev hash differs)",
    })
  })

  it("detects a removed entry", async () => {
    const file = await tampered("removed", (lines) => lines.filter((_, i) => i !== 2))
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      line: 3,
      reason: "expected entry #3, found #4: entry #3 was removed or moved",
    })
  })

  it("detects reordered entries", async () => {
    const file = await tampered("reordered", (lines) => [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)])
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      line: 2,
      reason: "expected entry #2, found #3: entry #2 was removed or moved",
    })
  })

  it("detects entries cut off the end through the head file", async () => {
    const file = await tampered("truncated", (lines) => lines.slice(0, 4))
    expect(await verifyAuditLog(file)).toEqual({
      ok: false,
      entries: 4,
      line: 5,
      reason: "entries #5-#6 were removed from the end",
    })
  })

  it("a reopened log continues the chain", async () => {
    const file = join(dir, "reopened.log")
    const first = await AuditLog.open(file)
    first.append({ actor: { name: "cli", via: "api" }, action: "agent.stop", target: "a", result: "ok" })
    await first.settled()
    const second = await AuditLog.open(file)
    expect(second.head()).toEqual(first.head())
    second.append({ actor: { name: "cli", via: "api" }, action: "agent.start", target: "a", result: "ok" })
    await second.settled()
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, entries: 2 })
  })

  it("`sam audit verify --file` exits 0 for an intact log and 1 naming the first bad line", async () => {
    const ok = await runSam(["audit", "verify", "--file", join(dir, "audit.log")])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/audit\.log: 6 entries, chain intact \(last #6 [0-9a-f]{12}\)\n$/)
    const bad = await runSam([
      "audit",
      "verify",
      "--file",
      await tampered("cli", (l) => l.filter((_, i) => i !== 1)),
    ])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("cli.log:2: expected entry #2, found #3: entry #2 was removed or moved")
    const missing = await runSam(["audit", "verify", "--file", join(dir, "nope.log")])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("no audit log at")
  })
})

describe("auditing the embedding API", () => {
  it("records lifecycle commands run through Sam as the embedding library", async () => {
    const sam = new Sam({ units: [nodeService("db", "http-service.mjs", { probes: [httpCheck()] })] })
    const log = await AuditLog.open(join(dir, "embedded.log"))
    const off = auditCommands(sam, log)
    await sam.start()
    const pids = [sam.services.status("db").pid as number]
    await sam.services.restart("db")
    pids.push(sam.services.status("db").pid as number)
    await expect(sam.services.start("db")).rejects.toMatchObject({ _tag: "CommandRefused" })
    await expect(sam.agents.stop("db")).rejects.toMatchObject({ _tag: "UnitNotFound" })
    await sam.stop()
    off()
    await log.settled()
    const entries = (await readFile(log.file, "utf8")).trimEnd().split("\n").map(entry)
    expect(entries.map((e) => [e.actor.name, e.actor.via, e.action, e.target, e.result])).toEqual([
      ["embedding", "library", "service.restart", "db", "ok"],
      ["embedding", "library", "service.start", "db", "refused"],
      ["embedding", "library", "agent.stop", "db", "not_found"],
    ])
    expect(survivors(pids)).toEqual([])
  })
})
