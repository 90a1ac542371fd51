// The audit log's hash chain: a changed, removed, reordered or cut-off entry is detected and named,
// by verifyAuditLog and by the real `sam audit verify`; a reopened log continues the chain; the
// embedding API's lifecycle commands are recorded too. Anchored in the runtime store (a cut tail
// without its head file), rotated across files, and a flood of unauthenticated requests summed.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditCommands } from "../../src/audit/auditCommands.ts"
import { type AuditEntry, entryHash } from "../../src/audit/auditEntry.ts"
import { AuditLog, headFileOf } from "../../src/audit/auditLog.ts"
import { verifyAuditLog } from "../../src/audit/verifyAudit.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { openRuntimeStore } from "../../src/runtime/store/runtimeStore.ts"
import { runSam } from "../cli/runSam.ts"
import { httpCheck, nodeService, survivors } from "../support/runtime.ts"
import { startApi } from "./apiHarness.ts"

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

describe("the audit log's anchor in the runtime store", () => {
  /** A state dir with a runtime store and an anchored log of six entries written in three batches. */
  const anchoredLog = async (options: { maxFileBytes?: number; entries?: number } = {}) => {
    const stateDir = await mkdtemp(join(tmpdir(), "sam-anchor-"))
    const store = openRuntimeStore(stateDir)
    const log = await AuditLog.open(join(stateDir, "audit.log"), {
      anchor: store.auditCheckpoints,
      ...(options.maxFileBytes === undefined ? {} : { maxFileBytes: options.maxFileBytes }),
    })
    const total = options.entries ?? 6
    for (let i = 1; i <= total; i++) {
      log.append({
        actor: { name: "ops", role: "operator", via: "api" },
        action: "service.stop",
        target: `s${i}`,
        result: "ok",
      })
      if (i % 2 === 0) await log.settled()
    }
    await log.close()
    return { stateDir, store, file: log.file }
  }

  it("a rewrite with the whole chain and head file recomputed is caught by the checkpoint, and no entry is called intact", async () => {
    const { stateDir, store, file } = await anchoredLog()
    try {
      store.close()
      // Forge entry #3, then recompute every hash after it and the head file, as an attacker would.
      let prev = ""
      const forged = (await readFile(file, "utf8"))
        .trimEnd()
        .split("\n")
        .map((line) => {
          const { hash: _, ...body } = entry(line)
          const changed = {
            ...body,
            ...(body.seq === 3 ? { target: "forged" } : {}),
            ...(body.seq === 1 ? {} : { prev }),
          }
          prev = entryHash(changed)
          return JSON.stringify({ ...changed, hash: prev })
        })
      await writeFile(file, `${forged.join("\n")}\n`)
      await writeFile(headFileOf(file), `${JSON.stringify({ seq: 6, hash: prev })}\n`)
      expect(await verifyAuditLog(file)).toMatchObject({ ok: false, entries: 0, rewritten: true })
      const run = await runSam(["audit", "verify", "--file", file])
      expect(run.code).toBe(1)
      expect(run.stderr).toContain("the log was rewritten, at #6 or anywhere before it")
      expect(run.stderr).toContain("no entry of it can be trusted")
      expect(run.stderr).not.toContain("entries before that are intact")
    } finally {
      await rm(stateDir, { recursive: true, force: true })
    }
  })

  it("a cut tail with a deleted head file is detected by `sam audit verify` (exit 1, naming the gap)", async () => {
    const { stateDir, store, file } = await anchoredLog()
    try {
      expect(store.auditCheckpoints.latest()).toMatchObject({ seq: 6, count: 6, file: "audit.log" })
      store.close()
      const intact = await runSam(["audit", "verify", "--file", file])
      expect(intact.code).toBe(0)
      expect(intact.stdout).toMatch(
        /6 entries, chain intact \(last #6 [0-9a-f]{12}\); matches the runtime store's checkpoint #6 of /,
      )

      const lines = (await readFile(file, "utf8")).trimEnd().split("\n")
      await writeFile(file, `${lines.slice(0, 4).join("\n")}\n`)
      await rm(headFileOf(file))
      expect(await verifyAuditLog(file)).toMatchObject({
        ok: false,
        entries: 4,
        line: 5,
        reason: expect.stringMatching(
          /^entries #5-#6 were removed from the end: the runtime store's checkpoint of \S+ records entry #6 \(in audit\.log\), the log ends at #4 and its head file audit\.log\.head is gone$/,
        ),
      })
      const cut = await runSam(["audit", "verify", "--file", file])
      expect(cut.code).toBe(1)
      expect(cut.stderr).toContain("audit.log:5: entries #5-#6 were removed from the end")
    } finally {
      await rm(stateDir, { recursive: true, force: true })
    }
  })

  it("a log reopened after its tail was cut goes on after the checkpoint with an audit.gap entry, so the gap stays visible", async () => {
    const { stateDir, store, file } = await anchoredLog()
    try {
      const lines = (await readFile(file, "utf8")).trimEnd().split("\n")
      await writeFile(file, `${lines.slice(0, 3).join("\n")}\n`)
      await rm(headFileOf(file))
      const gaps: string[] = []
      const reopened = await AuditLog.open(file, {
        anchor: store.auditCheckpoints,
        onGap: (d) => gaps.push(d),
      })
      await reopened.close()
      expect(gaps).toEqual([expect.stringContaining("audit entries #4-#6 are missing: the log ends at #3")])
      const last = entry((await readFile(file, "utf8")).trimEnd().split("\n").at(-1) as string)
      expect(last).toMatchObject({ seq: 7, action: "audit.gap", result: "failed" })
      store.close()
      expect(await verifyAuditLog(file)).toMatchObject({
        ok: false,
        line: 4,
        reason: "expected entry #4, found #7: entries #4-#6 were removed or moved",
      })
    } finally {
      await rm(stateDir, { recursive: true, force: true })
    }
  })

  it("rotates past max_file_mb into audit.log.<n>, one chain through every file; a removed or changed rotated file is named", async () => {
    const { stateDir, store, file } = await anchoredLog({ maxFileBytes: 1_000, entries: 24 })
    try {
      store.close()
      const { auditFiles } = await import("../../src/audit/auditFiles.ts")
      const files = auditFiles(file)
      expect(files.length).toBeGreaterThan(3)
      expect(files.at(-1)).toBe(file)
      for (const part of files.slice(0, -1))
        expect((await readFile(part, "utf8")).length).toBeLessThanOrEqual(1_000)
      expect(await verifyAuditLog(file)).toMatchObject({ ok: true, entries: 24, head: { seq: 24 } })

      const second = files[1] as string
      const text = await readFile(second, "utf8")
      await writeFile(second, text.replace('"target":"s', '"target":"x'))
      expect(await verifyAuditLog(file)).toMatchObject({
        ok: false,
        line: 1,
        file: second,
        reason: expect.stringMatching(/^entry #\d+ was changed/),
      })
      await writeFile(second, text)
      await rm(files[0] as string)
      const run = await runSam(["audit", "verify", "--file", file])
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(
        new RegExp(`${second.replaceAll(".", "\\.")}:1: expected entry #1, found #\\d+`),
      )
    } finally {
      await rm(stateDir, { recursive: true, force: true })
    }
  })
})

describe("refused unauthenticated requests", () => {
  it("2,000 of them add one entry per source and minute, a few hundred bytes, not one entry each", async () => {
    const h = await startApi([])
    try {
      const before = (await stat(h.audit.file).catch(() => ({ size: 0 }))).size
      const paths = [
        "/api/status",
        "/api/services/x/stop",
        "/api/config/reload",
        "/api/events",
        "/?token=guess",
      ]
      for (let round = 0; round < 40; round++)
        await Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const path = paths[i % paths.length] as string
            const response = await fetch(`${h.url}${path}`, {
              method: path.includes("stop") || path.includes("reload") ? "POST" : "GET",
              headers: i % 3 === 0 ? { authorization: `Bearer guess-${round}-${i}-xxxxxxxxxx` } : {},
            })
            expect(response.status).toBe(401)
            await response.body?.cancel()
          }),
        )
      await h.audit.close()
      const after = (await stat(h.audit.file)).size
      expect(after - before).toBeLessThan(2 * 1024)
      const entries = (await readFile(h.audit.file, "utf8")).trimEnd().split("\n").map(entry)
      expect(entries.length).toBeLessThanOrEqual(2)
      expect(entries.every((e) => e.action === "api.unauthenticated" && e.target === "127.0.0.1")).toBe(true)
      expect(entries.reduce((sum, e) => sum + Number(e.params?.count), 0)).toBe(2000)
    } finally {
      expect(await h.close()).toEqual([])
    }
  })
})

describe("refused requests of a token without the role", () => {
  it("the first few a minute are written in full, the rest summed in one api.denied entry: a viewer cannot grow the log by one entry a request", async () => {
    const h = await startApi([])
    try {
      for (let i = 0; i < 40; i++) {
        const response = await h.fetch("/api/services/x/stop", { method: "POST", as: "watcher" })
        expect(response.status).toBe(403)
        await response.body?.cancel()
      }
      await h.audit.close()
      const entries = (await readFile(h.audit.file, "utf8")).trimEnd().split("\n").map(entry)
      const full = entries.filter((e) => e.actor.name === "watcher" && e.action === "service.stop")
      const summed = entries.filter((e) => e.action === "api.denied")
      // 5 in full per minute (10 should the requests straddle a minute's end), the rest counted.
      expect(full.length).toBeGreaterThanOrEqual(5)
      expect(full.length).toBeLessThanOrEqual(10)
      expect(full.every((e) => e.result === "denied")).toBe(true)
      expect(summed.length).toBeGreaterThanOrEqual(1)
      expect(full.length + summed.reduce((sum, e) => sum + Number(e.params?.count), 0)).toBe(40)
      expect(summed[0]).toMatchObject({
        actor: { name: "watcher", role: "viewer" },
        detail: expect.stringMatching(
          /^\d+ more requests of token "watcher" refused for its role viewer \(403\) after the 5 written in full$/,
        ),
      })
    } finally {
      expect(await h.close()).toEqual([])
    }
  })
})
