// A viewer's grep over a unit's output runs in SAM's event loop: patterns that take a backtracking
// engine minutes, or forever, on one long line (F*F*F*X on 1,500 F, e.*r.*timeout on 64 KB of
// "error ") answer correctly while SAM goes on answering everyone else. No time is asserted: a
// frozen loop makes these tests time out.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { agentUnit, removeScratch } from "../support/agents.ts"
import { type ApiHarness, readEvents, startApi } from "./apiHarness.ts"

let h: ApiHarness

const print = async (text: string, repeat = 1) => {
  const response = await h.fetch("/api/capabilities/print/invoke", {
    as: "ops",
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input: { text, repeat } }),
  })
  expect(response.status).toBe(200)
}

type Log = { lines: Array<{ line: string }> }

const grep = async (pattern: string): Promise<string[]> => {
  const response = await h.fetch(`/api/agents/probe/logs?lines=10&grep=${encodeURIComponent(pattern)}`, {
    as: "watcher",
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as Log).lines.map((l) => l.line)
}

const fs = "F".repeat(1500)
const errors = "error ".repeat(10_900)

beforeAll(async () => {
  h = await startApi([agentUnit("probe", { agent: { capabilities: ["print"] } })])
  await print("F", 1500)
  await print(`${fs}X`)
  await print("error ", 10_900)
  await print("error: upstream timeout")
  // Every line is in the log before the greps run (a literal needs no backtracking).
  await vi.waitFor(async () => expect(await grep("upstream")).toEqual(["error: upstream timeout"]), {
    timeout: 10_000,
    interval: 50,
  })
})

afterAll(async () => {
  expect(await h.close()).toEqual([])
  expect(h.errors).toEqual([])
  removeScratch()
})

describe("grep over long lines", () => {
  it("F*F*F*X and e.*r.*timeout answer with the matching lines while /api/status answers beside them", async () => {
    const [polynomial, greedy, status] = await Promise.all([
      grep("F*F*F*X"),
      grep("e.*r.*timeout"),
      h
        .fetch("/api/status", { as: "watcher" })
        .then(async (r) => ({ status: r.status, body: await r.json() })),
    ])
    expect(polynomial).toEqual([`${fs}X`])
    expect(greedy).toEqual(["error: upstream timeout"])
    expect(status).toMatchObject({ status: 200, body: { agents: { total: 1, running: 1 } } })
    // Nested repeats, refused before RE2, are fine now; the long lines did not match.
    expect(await grep("^(F+)+$")).toEqual([fs])
    expect(await grep("^(error )+$")).toEqual([errors])
  })

  it("the follow stream filters live long lines with such a pattern too", async () => {
    const response = await h.fetch(
      `/api/agents/probe/logs?follow=true&lines=0&grep=${encodeURIComponent("e.*r.*timeout")}`,
      {
        as: "watcher",
      },
    )
    expect(response.status).toBe(200)
    const read = readEvents(response, (frames) => frames.some((f) => f.event === "line"))
    await print("error ", 10_900)
    await print("error: second timeout")
    const { frames } = await read
    expect(frames.filter((f) => f.event === "line").map((f) => f.data.line)).toEqual([
      "error: second timeout",
    ])
  })

  it("a pattern RE2 cannot compile is a 400 naming grep and what RE2 lacks", async () => {
    const response = await h.fetch(
      `/api/agents/probe/logs?grep=${encodeURIComponent("error(?!: upstream)")}`,
      {
        as: "watcher",
      },
    )
    expect(response.status).toBe(400)
    const problem = (await response.json()) as { errors: Array<{ path: string[]; message: string }> }
    expect(problem.errors).toEqual([
      {
        path: ["query", "grep"],
        message:
          "not a regular expression (RE2 syntax): invalid or unsupported Perl syntax: `(?!`; RE2 has no lookahead or lookbehind",
      },
    ])
  })
})
