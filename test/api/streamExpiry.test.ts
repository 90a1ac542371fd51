// A stream outlives the request that opened it: the event stream and a followed log end, with an
// `unauthorized` frame, at the first heartbeat after their credential stopped authenticating (here
// a browser session that expired), and the reconnect meets the 401.
import { afterEach, describe, expect, it } from "vitest"
import { httpCheck, nodeService } from "../support/runtime.ts"
import { type ApiHarness, startApi, tokens } from "./apiHarness.ts"

const open: ApiHarness[] = []
afterEach(async () => {
  for (const h of open.splice(0)) {
    expect(await h.close()).toEqual([])
    expect(h.errors).toEqual([])
  }
})

/** Every SSE frame's event name until the server ends the stream (bounded). */
const eventsUntilEnd = async (response: Response, timeoutMs = 10_000): Promise<string[]> => {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const timer = setTimeout(() => void reader.cancel(new Error("the stream did not end")), timeoutMs)
  const decoder = new TextDecoder()
  let text = ""
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
  } finally {
    clearTimeout(timer)
  }
  return [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1] as string)
}

describe("streams end when their credential no longer authenticates", () => {
  it("an expired session ends /api/events and a followed log with `unauthorized`; the reconnect is a 401", async () => {
    const h = await startApi([nodeService("db", "http-service.mjs", { probes: [httpCheck()] })], {
      sessionLifetimeMs: 1_500,
    })
    open.push(h)
    const login = await fetch(`${h.url}/?token=${encodeURIComponent(h.token("ops") as string)}`, {
      redirect: "manual",
    })
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? ""
    const events = await fetch(`${h.url}/api/events`, { headers: { cookie } })
    const logs = await fetch(`${h.url}/api/services/db/logs?follow=true`, { headers: { cookie } })
    expect([events.status, logs.status]).toEqual([200, 200])

    const [eventNames, logNames] = await Promise.all([eventsUntilEnd(events), eventsUntilEnd(logs)])
    expect(eventNames[0]).toBe("snapshot")
    expect(eventNames.at(-1)).toBe("unauthorized")
    expect(logNames.at(-1)).toBe("unauthorized")
    const again = await fetch(`${h.url}/api/events`, { headers: { cookie } })
    expect(again.status).toBe(401)
    await again.body?.cancel()
  })

  it("a token taken away (a config reload's setTokens) ends the streams it opened and the reconnect is a 401", async () => {
    const h = await startApi([nodeService("db", "http-service.mjs", { probes: [httpCheck()] })])
    open.push(h)
    const events = await h.fetch("/api/events", { as: "watcher" })
    const logs = await h.fetch("/api/services/db/logs?follow=true", { as: "watcher" })
    expect([events.status, logs.status]).toEqual([200, 200])
    const { watcher: _gone, ...kept } = tokens
    h.server.setTokens({ tokens: kept })
    const [eventNames, logNames] = await Promise.all([eventsUntilEnd(events), eventsUntilEnd(logs)])
    expect(eventNames.at(-1)).toBe("unauthorized")
    expect(logNames.at(-1)).toBe("unauthorized")
    const again = await h.fetch("/api/events", { as: "watcher" })
    expect(again.status).toBe(401)
    await again.body?.cancel()
    expect((await h.fetch("/api/status", { as: "admin" })).status).toBe(200)
  })

  it("a stream whose credential still holds keeps its heartbeats", async () => {
    const h = await startApi([nodeService("db", "http-service.mjs", { probes: [httpCheck()] })])
    open.push(h)
    const events = await h.fetch("/api/events", { as: "watcher" })
    const reader = (events.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let text = ""
    // Three heartbeats (100 ms apart in the harness), each a keep-alive, none the end.
    while ((text.match(/^: keep-alive/gm) ?? []).length < 3) {
      const { done, value } = await reader.read()
      expect(done).toBe(false)
      text += decoder.decode(value, { stream: true })
    }
    expect(text).not.toContain("event: unauthorized")
    await reader.cancel()
  })
})
