// The parts of the control API the dashboard needs beyond the CLI's: who the caller is
// (GET /api/session), usage samples on the event stream (?usage=true) and the recent events in
// its snapshot (?recent=N), over real HTTP against a Sam running real processes.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { httpCheck, nodeService } from "../support/runtime.ts"
import { type ApiHarness, readEvents, startApi, withClient } from "./apiHarness.ts"

let h: ApiHarness

beforeAll(async () => {
  h = await startApi([nodeService("db", "http-service.mjs", { probes: [httpCheck()] })])
})

afterAll(async () => {
  expect(await h.close()).toEqual([])
  expect(h.errors).toEqual([])
})

describe("GET /api/session", () => {
  it("names the caller's token and role, for every role", async () => {
    for (const [as, role] of [
      ["watcher", "viewer"],
      ["ops", "operator"],
      ["admin", "admin"],
    ] as const)
      expect(await withClient(h.url, h.token(as), (c) => c.system.session())).toEqual({ name: as, role })
    expect((await h.fetch("/api/session")).status).toBe(401)
  })
})

describe("the dashboard's files on the API's port", () => {
  it("are for signed-in browsers only: / is the token form and /assets/* a 401 without a session", async () => {
    const form = await fetch(`${h.url}/`)
    expect(await form.text()).toContain('<form method="post" action="/">')
    const login = await fetch(`${h.url}/?token=${h.token("watcher")}`, { redirect: "manual" })
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? ""
    const page = await fetch(`${h.url}/`, { headers: { cookie } })
    const script = /src="(\/assets\/index-[\w-]+\.js)"/.exec(await page.text())?.[1] as string
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'")
    const asset = await fetch(`${h.url}${script}`, { headers: { cookie } })
    expect(asset.status).toBe(200)
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable")
    const refused = await fetch(`${h.url}${script}`)
    expect(refused.status).toBe(401)
    expect(((await refused.json()) as { detail: string }).detail).toContain("sam dashboard")
  })
})

describe("GET /api/events for the dashboard", () => {
  it("sends usage samples without ids when asked, and none otherwise", async () => {
    const { frames } = await readEvents(
      await h.fetch("/api/events?usage=true", { as: "watcher" }),
      (frames) => frames.some((f) => f.event === "usage"),
    )
    const usage = frames.find((f) => f.event === "usage")
    expect(usage?.id).toBeUndefined()
    const units = usage?.data.units as Array<{ id: string; cpu_percent: number | null; memory_bytes: number }>
    expect(units.map((u) => u.id)).toEqual(["db"])
    expect(units[0]?.memory_bytes).toBeGreaterThan(0)

    // Without the flag the stream is as the CLI knows it: heartbeats (100 ms here), no samples.
    const plain = await readEvents(
      await h.fetch("/api/events", { as: "watcher" }),
      (_frames, raw) => raw.split(": keep-alive").length > 25,
    )
    expect(plain.frames.map((f) => f.event)).toEqual(["snapshot"])
  })

  it("carries the last events in the snapshot when asked", async () => {
    await withClient(h.url, h.token("ops"), (c) =>
      c.services.restart({ params: { id: "db" }, payload: null }),
    )
    const { frames } = await readEvents(
      await h.fetch("/api/events?recent=3", { as: "watcher" }),
      (frames) => frames.length > 0,
    )
    const snapshot = frames[0]
    const recent = snapshot?.data.recent as Array<{ id: number; type: string }>
    expect(recent).toHaveLength(3)
    expect(recent.at(-1)?.id).toBe(Number(snapshot?.id))
    expect(recent.map((e) => e.id)).toEqual([...recent.map((e) => e.id)].sort((a, b) => a - b))
    const bad = await h.fetch("/api/events?recent=5000", { as: "watcher" })
    expect(bad.status).toBe(400)
  })
})
