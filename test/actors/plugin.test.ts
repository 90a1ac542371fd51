import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { type Actor, createActor, fromPromise, waitFor } from "xstate"
import {
  type PluginEvent,
  pluginBusy,
  pluginMachine,
  pluginStatus,
  type SetUpInput,
} from "../../src/actors/plugin.machine.ts"

// The plugin machine on its own: the host's work (set up, tear down) is replaced by actors the
// test controls, so every transition is checked without plugins.
interface Pending<I> {
  readonly input: I
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

interface Controls {
  setUps: Array<Pending<SetUpInput>>
  tearDowns: Array<Pending<{ name: string }>>
  swaps: number
}

const build = () => {
  const controls: Controls = { setUps: [], tearDowns: [], swaps: 0 }
  let versions = 0
  const machine = pluginMachine.provide({
    actors: {
      setUp: fromPromise<{ version: string }, SetUpInput>(
        ({ input }) =>
          new Promise((resolve, reject) =>
            controls.setUps.push({ input, resolve: () => resolve({ version: `${++versions}.0.0` }), reject }),
          ),
      ),
      tearDown: fromPromise<void, { name: string }>(
        ({ input }) =>
          new Promise((resolve, reject) =>
            controls.tearDowns.push({ input, resolve: () => resolve(), reject }),
          ),
      ),
    },
    actions: { swapIn: () => void controls.swaps++ },
  })
  const actor = createActor(machine, { input: { name: "kit" } }).start()
  return { actor, controls }
}

type PluginActor = Actor<typeof pluginMachine>

/** Let a settled promise's continuation (the actor's done event) run. */
const settle = () => new Promise((r) => setTimeout(r, 0))

/** The cell vocabulary of docs/PLUGINS.md: a state with the intent it carries. */
const describeState = (value: unknown): string => {
  if (typeof value === "string") return value
  const v = value as Record<string, unknown>
  if (v.loading !== undefined)
    return { thenServe: "loading", thenReload: "loading (then reload)", thenUnload: "loading (then unload)" }[
      v.loading as string
    ] as string
  if (v.active === "serving") return "active"
  if (v.active !== undefined) {
    const reloading = (v.active as { reloading: string }).reloading
    return {
      thenServe: "reloading",
      thenReload: "reloading (then reload)",
      thenUnload: "reloading (then unload)",
      orphaned: "reloading (orphaned)",
    }[reloading] as string
  }
  if (v.unloading !== undefined) return v.unloading === "thenLoad" ? "unloading (then load)" : "unloading"
  const failed = v.failed as string
  return failed === "awaitingFix" ? "failed" : failed === "deciding" ? "failed (deciding)" : failed
}

/** Drive a fresh machine into the row's state. */
const reach = async (row: string) => {
  const m = build()
  const { actor, controls } = m
  const send = (e: PluginEvent) => actor.send(e)
  const setUpSucceeds = async () => {
    controls.setUps.at(-1)!.resolve()
    await settle()
  }
  const active = async () => {
    send({ type: "LOAD" })
    await setUpSucceeds()
  }
  const crashed = async () => {
    await active()
    send({ type: "CRASHED", error: "its event listener threw: boom" })
  }
  switch (row) {
    case "pending":
      break
    case "loading":
      send({ type: "LOAD" })
      break
    case "loading (then reload)":
      send({ type: "LOAD" })
      send({ type: "RELOAD" })
      break
    case "loading (then unload)":
      send({ type: "LOAD" })
      send({ type: "UNLOAD" })
      break
    case "active":
      await active()
      break
    case "reloading":
      await active()
      send({ type: "RELOAD" })
      break
    case "reloading (then reload)":
      await active()
      send({ type: "RELOAD" })
      send({ type: "RELOAD" })
      break
    case "reloading (then unload)":
      await active()
      send({ type: "RELOAD" })
      send({ type: "UNLOAD" })
      break
    case "reloading (orphaned)":
      await active()
      send({ type: "RELOAD" })
      send({ type: "CRASHED", error: "its timer threw" })
      break
    case "unloading":
      await active()
      send({ type: "UNLOAD" })
      break
    case "unloading (then load)":
      await active()
      send({ type: "UNLOAD" })
      send({ type: "LOAD" })
      break
    case "unloaded":
      send({ type: "UNLOAD" })
      break
    case "failed":
      send({ type: "FAILED", error: "could not import plugins/kit.mjs" })
      break
    case "failed (deciding)":
      await crashed()
      break
    case "backoff":
      await crashed()
      send({ type: "RETRY", delayMs: 600_000, reason: "restarting in 600000 ms" })
      break
    case "crashed":
      await crashed()
      send({ type: "GIVE_UP", reason: "gave up after 3 restarts in 60s" })
      break
    default:
      throw new Error(`no way to reach "${row}"`)
  }
  expect(describeState(actor.getSnapshot().value)).toBe(row)
  return m
}

const events: Record<string, PluginEvent | "set up" | "setup fails" | "torn down"> = {
  load: { type: "LOAD" },
  reload: { type: "RELOAD" },
  unload: { type: "UNLOAD" },
  "cannot set up": { type: "FAILED", error: "name conflict" },
  "hook crashes": { type: "CRASHED", error: "its sink threw" },
  retry: { type: "RETRY", delayMs: 600_000, reason: "restarting in 600000 ms" },
  "give up": { type: "GIVE_UP", reason: "gave up" },
  "stand down": { type: "STAND_DOWN", reason: "" },
  "set up": "set up",
  "setup fails": "setup fails",
  "torn down": "torn down",
}

/** The state × event table as docs/PLUGINS.md writes it. */
const documentedTable = () => {
  const text = readFileSync(new URL("../../docs/PLUGINS.md", import.meta.url), "utf8")
  const lines = text.slice(text.indexOf("<!-- plugin-table -->")).split("\n").slice(1)
  const rows: string[][] = []
  for (const line of lines) {
    if (!line.startsWith("|")) break
    rows.push(
      line
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim()),
    )
  }
  const [header, , ...body] = rows
  return { columns: header!.slice(1), body }
}

/** Deliver a column's event: a command, a fact, or the outcome of the work in progress. */
const deliver = async (actor: PluginActor, controls: Controls, column: string) => {
  const event = events[column]!
  if (typeof event !== "string") return actor.send(event)
  const busy = pluginBusy(actor.getSnapshot().value)
  const setUp = controls.setUps.at(-1)
  const tearDown = controls.tearDowns.at(-1)
  if (event === "torn down") {
    if (busy && "unloading" in (actor.getSnapshot().value as object)) tearDown!.resolve()
    else actor.send({ type: "TORN_DOWN" })
  } else if (busy && !("unloading" in (actor.getSnapshot().value as object))) {
    if (event === "set up") setUp!.resolve()
    else setUp!.reject(new Error("setup threw"))
  } else
    actor.send(
      event === "set up" ? { type: "SET_UP", version: "9.0.0" } : { type: "SETUP_FAILED", error: "x" },
    )
  await settle()
}

describe("plugin machine: the state × event table of docs/PLUGINS.md", () => {
  const { columns, body } = documentedTable()
  it("documents every state and every event", () => {
    expect(columns).toEqual(Object.keys(events))
    expect(body.map((r) => r[0])).toEqual([
      "pending",
      "loading",
      "loading (then reload)",
      "loading (then unload)",
      "active",
      "reloading",
      "reloading (then reload)",
      "reloading (then unload)",
      "reloading (orphaned)",
      "unloading",
      "unloading (then load)",
      "unloaded",
      "failed",
      "failed (deciding)",
      "backoff",
      "crashed",
    ])
  })

  for (const [row, ...cells] of body)
    for (const [i, cell] of cells.entries()) {
      const column = columns[i]!
      it(`${row} × ${column}: ${cell}`, async () => {
        const { actor, controls } = await reach(row!)
        const before = describeState(actor.getSnapshot().value)
        const setUpsBefore = controls.setUps.length
        await deliver(actor, controls, column)
        const after = describeState(actor.getSnapshot().value)
        expect(after).toBe(cell === "stays" ? before : cell)
        // Entering a set-up state (again) starts one set-up; staying starts none.
        const started = controls.setUps.length - setUpsBefore
        if (cell === "stays") expect(started).toBe(0)
        actor.stop()
      })
    }
})

describe("plugin machine: the work and what it leaves behind", () => {
  it("a reload set up while the old version serves swaps it in; a failed one keeps the old and says why", async () => {
    const { actor, controls } = await reach("active")
    expect(actor.getSnapshot().context).toMatchObject({ version: "1.0.0", error: undefined })
    actor.send({ type: "RELOAD", config: { value: { a: 1 } } })
    expect(controls.setUps.at(-1)!.input).toEqual({
      name: "kit",
      reimport: true,
      config: { value: { a: 1 } },
    })
    controls.setUps.at(-1)!.reject(new Error("setup failed: token missing"))
    await settle()
    expect(actor.getSnapshot().value).toEqual({ active: "serving" })
    expect(actor.getSnapshot().context.error).toBe(
      "reload failed, still serving 1.0.0: setup failed: token missing",
    )
    actor.send({ type: "RELOAD" })
    controls.setUps.at(-1)!.resolve()
    await settle()
    expect(actor.getSnapshot().context).toMatchObject({ version: "2.0.0", error: undefined })
    // The first version and the reload each went live once; the refused one never did.
    expect(controls.swaps).toBe(2)
    actor.stop()
  })

  it("an edit during a set-up is set up next, with its own plan", async () => {
    const { actor, controls } = await reach("loading")
    actor.send({ type: "RELOAD", reimport: true, config: { value: "new" } })
    controls.setUps.at(-1)!.resolve()
    await settle()
    expect(describeState(actor.getSnapshot().value)).toBe("reloading")
    expect(controls.setUps).toHaveLength(2)
    expect(controls.setUps[1]!.input).toEqual({ name: "kit", reimport: true, config: { value: "new" } })
    actor.stop()
  })

  it("a crash is decided on: retried after the backoff (same code), or crashed past the intensity", async () => {
    const { actor, controls } = await reach("failed (deciding)")
    expect(pluginStatus(actor.getSnapshot().value)).toBe("failed")
    actor.send({ type: "RETRY", delayMs: 5, reason: "restarting in 5 ms" })
    expect(actor.getSnapshot().context.error).toBe("its event listener threw: boom; restarting in 5 ms")
    await waitFor(actor, (s) => s.matches("loading"), { timeout: 2_000 })
    expect(controls.setUps.at(-1)!.input).toEqual({ name: "kit", reimport: false, config: undefined })
    controls.setUps.at(-1)!.resolve()
    await settle()
    expect(pluginStatus(actor.getSnapshot().value)).toBe("running")
    expect(actor.getSnapshot().context.error).toBeUndefined()

    actor.send({ type: "CRASHED", error: "boom again" })
    actor.send({ type: "GIVE_UP", reason: "gave up after 1 restarts in 60s" })
    expect(actor.getSnapshot().value).toEqual({ failed: "crashed" })
    expect(actor.getSnapshot().context.error).toBe("boom again; gave up after 1 restarts in 60s")
    actor.stop()
  })

  it("an unload during a set-up tears down what went live; a load during an unload sets it up again", async () => {
    const { actor, controls } = await reach("loading (then unload)")
    controls.setUps.at(-1)!.resolve()
    await settle()
    expect(describeState(actor.getSnapshot().value)).toBe("unloading")
    // What was set up never went live.
    expect(controls.swaps).toBe(0)
    actor.send({ type: "LOAD" })
    controls.tearDowns.at(-1)!.resolve()
    await settle()
    expect(describeState(actor.getSnapshot().value)).toBe("loading")
    actor.stop()
  })

  it("shows the four public statuses", () => {
    expect(pluginStatus("pending")).toBe("loading")
    expect(pluginStatus({ loading: "thenServe" })).toBe("loading")
    expect(pluginStatus({ active: { reloading: "thenServe" } })).toBe("running")
    expect(pluginStatus({ unloading: "thenStay" })).toBe("stopped")
    expect(pluginStatus("unloaded")).toBe("stopped")
    expect(pluginStatus({ failed: "backoff" })).toBe("failed")
  })
})
