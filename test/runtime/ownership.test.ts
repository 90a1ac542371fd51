import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project } from "../support/daemon.ts"
import { type Harness, harness, nodeService, survivors } from "../support/runtime.ts"

// Every process a unit starts belongs to it: setsid and double-forked grandchildren included,
// on a stop and when SAM itself is SIGKILLed.
interface Tree {
  readonly leader: number
  readonly setsid: number
  readonly doubleFork: number
  readonly scrubbed: number
}
const pidsOf = (tree: Tree) => [tree.leader, tree.setsid, tree.doubleFork, tree.scrubbed]

/** Polls (bounded) until no pid of `pids` is alive; returns the survivors at the deadline. */
const goneWithin = async (pids: ReadonlyArray<number>, ms: number) => {
  const deadline = Date.now() + ms
  while (survivors(pids).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  return survivors(pids)
}

let h: Harness | undefined
let p: Project | undefined
afterEach(async () => {
  await h?.dispose()
  h = undefined
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

describe("SAM owns the whole process tree of a unit", () => {
  it("a stop ends grandchildren that called setsid or double-forked", async () => {
    h = harness([nodeService("tree", "escaping-tree.mjs", { stop: { graceMs: 500 } })])
    await h.supervisor.startAll()
    const tree = JSON.parse(await h.nextLine("tree", (l) => l.startsWith("{"))) as Tree
    for (const pid of pidsOf(tree)) h.pids.add(pid)
    expect(survivors(pidsOf(tree))).toEqual(pidsOf(tree))
    await h.supervisor.command("tree", "stop")
    expect(survivors(pidsOf(tree))).toEqual([])
  })

  it("within 3 s of SAM being SIGKILLed, no process of any unit remains", async () => {
    p = project()
    const treeFile = join(p.dir, "tree.json")
    p.writeConfig({
      services: {
        tree: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("escaping-tree.mjs")],
            env: { TREE_FILE: treeFile },
          },
        },
      },
    })
    const sam = await p.start()
    await sam.waitForOutput("1/1 units ready")
    const deadline = Date.now() + 10_000
    while (!existsSync(treeFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    const tree = JSON.parse(readFileSync(treeFile, "utf8")) as Tree
    for (const pid of pidsOf(tree)) p.pids.add(pid)
    expect(survivors(pidsOf(tree))).toEqual(pidsOf(tree))
    sam.child.kill("SIGKILL")
    await sam.exited
    expect(await goneWithin(pidsOf(tree), 3_000)).toEqual([])
  })
})
