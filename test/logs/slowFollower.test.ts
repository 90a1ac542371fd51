// A log follower that stops reading while its unit writes flat out holds a bounded part of SAM's
// memory: past its budget (2 MiB of frames) its lines are skipped, and once it reads again it is
// told how many, then follows on (src/api/followBudget.ts).

import { readFileSync } from "node:fs"
import { request } from "node:http"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { authHeaders, fixturePath, type Project, project, untilUnit } from "../support/daemon.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

describe("a log follower that falls behind", () => {
  it("skips lines past its budget, and once it reads again gets one gap event counting them, still following", async () => {
    p = project()
    p.writeConfig({
      api: { port: 0 },
      services: {
        flood: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("flood.mjs")],
            // ~40 MB of 8 KB lines, after SIGUSR2; then `flood done`, then idle.
            env: { LINE_BYTES: "8000", FLOOD_MS: "1000", START_ON: "SIGUSR2" },
          },
          restart_policy: "never",
        },
      },
    })
    const sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    const { url } = JSON.parse(readFileSync(join(p.stateDir, "api.json"), "utf8")) as { url: string }
    const flood = await untilUnit(sam, "services", "flood", (s) => s.pid !== undefined && s.pid !== null)

    // Follow from now on, and read nothing until the flood is over.
    const response = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      const req = request(`${url}/api/services/flood/logs?follow=true&lines=0`, {
        headers: { ...authHeaders(p!.stateDir), accept: "text/event-stream" },
      })
      req.on("response", resolve).on("error", reject).end()
    })
    expect(response.statusCode).toBe(200)
    response.pause()
    process.kill(flood.pid as number, "SIGUSR2")
    for (;;) {
      const tail = await sam.api<{ lines: Array<{ line: string }> }>(
        "GET",
        "/api/services/flood/logs?lines=1",
      )
      if (tail.body.lines.at(-1)?.line.startsWith("flood done")) break
    }
    const written = Number(
      /flood done (\d+)/.exec(
        (await sam.api<{ lines: Array<{ line: string }> }>("GET", "/api/services/flood/logs?lines=1")).body
          .lines[0]!.line,
      )?.[1],
    )
    expect(written * 8000).toBeGreaterThan(8 * 1024 * 1024) // several budgets' worth

    // Read again: what was queued, then the gap, with the count of what was skipped.
    response.setEncoding("utf8")
    let text = ""
    const gap = await new Promise<string>((resolve, reject) => {
      response.on("data", (chunk: string) => {
        text += chunk
        const match = /event: gap\ndata: (.*)\n/.exec(text)
        if (match) resolve(match[1] as string)
      })
      response.on("end", () => reject(new Error(`the stream ended without a gap:\n${text.slice(-500)}`)))
      response.resume()
    })
    const detail = (JSON.parse(gap) as { detail: string }).detail
    const skipped = Number(
      /^skipped (\d+) lines \(seq \d+ to \d+\): this client fell behind/.exec(detail)?.[1],
    )
    const received = text.split("event: line\n").length - 1
    // What reached the client before the gap is the budget plus the sockets' buffers: a small
    // part of what was written. Every line (and `flood done`) was either sent or counted.
    expect(received).toBeLessThan(written / 4)
    expect(received + skipped).toBe(written + 1)
    // Still following: the stream did not end.
    expect(response.readableEnded).toBe(false)
    response.destroy()
  })
})
