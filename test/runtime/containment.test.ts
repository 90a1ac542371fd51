import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { planCgroups } from "../../src/runtime/containment/cgroupHierarchies.ts"
import { detectContainment } from "../../src/runtime/containment/detectContainment.ts"
import { markedProcesses } from "../../src/runtime/containment/markers.ts"
import type { Containment } from "../../src/runtime/containment/types.ts"
import { findExecutable, wrapCommand } from "../../src/runtime/containment/wrapper.ts"
import { readStat, residentBytes } from "../../src/runtime/os/proc.ts"
import {
  availableModes,
  killLearned,
  spawnInCell,
  survivors,
  type TreePids,
  treePids,
  waitUntil,
} from "../support/containment.ts"
import { fixture } from "../support/runtime.ts"

const modes = await availableModes()
for (const m of modes) {
  if (!m.available) console.info(`containment tests for ${m.mode} are skipped on this host: ${m.reason}`)
}

const nobodyExists = readFileSync("/etc/passwd", "utf8").includes(":65534:65534:")
const runAsNobody = nobodyExists && process.getuid?.() === 0
if (!runAsNobody) {
  console.info(
    `run_as cases skipped: ${nobodyExists ? "SAM is not root" : "no user nobody (65534) on this host"}`,
  )
}

const learned = new Set<number>()
const containments: Containment[] = []
afterEach(async () => {
  killLearned(learned)
  learned.clear()
  for (const c of containments.splice(0)) await c.dispose()
})

const contain = (mode: Containment["info"]["mode"]) => {
  const containment = detectContainment({ force: mode })
  containments.push(containment)
  return containment
}

const startTree = async (containment: Containment) => {
  const cell = containment.cell("tree#0")
  const run = spawnInCell(cell, process.execPath, [fixture("escaping-tree.mjs")])
  learned.add(run.child.pid as number)
  const tree = JSON.parse(await run.firstLine) as TreePids
  for (const pid of treePids(tree)) learned.add(pid)
  return { cell, tree, run }
}

for (const { mode, available } of modes) {
  describe.runIf(available)(`a cell (${mode})`, () => {
    it("holds a setsid grandchild and a double-forked daemon; SIGTERM to the cell ends the whole tree", async () => {
      const containment = contain(mode)
      const { cell, tree } = await startTree(containment)
      expect(cell.members()).toEqual(expect.arrayContaining(treePids(tree)))
      expect(cell.empty()).toBe(false)
      for (const dir of cell.cgroupDirs) expect(existsSync(dir)).toBe(true)

      cell.signal("SIGTERM")
      expect(await waitUntil(() => cell.empty())).toBe(true)
      expect(survivors(treePids(tree))).toEqual([])
      // A task that has just exited can hold its cgroup a moment longer (rmdir: EBUSY).
      expect(await waitUntil(() => cell.release())).toBe(true)
      expect(cell.release()).toBe(true)
      for (const dir of cell.cgroupDirs) expect(existsSync(dir)).toBe(false)
    })

    it("reports memory and CPU summed over the tree, not the leader's alone", async () => {
      const containment = contain(mode)
      const { cell, tree } = await startTree(containment)
      const usage = cell.usage()
      expect(usage.rssBytes).toBeGreaterThan(residentBytes(tree.leader) ?? Number.POSITIVE_INFINITY)
      expect(usage.cpuSeconds).toBeGreaterThan(0)
      cell.kill()
      expect(await waitUntil(() => cell.empty())).toBe(true)
      expect(cell.usage()).toEqual({ rssBytes: 0, cpuSeconds: 0 })
    })

    it("kills a tree that is still forking, and dispose leaves no process and no directory", async () => {
      const containment = contain(mode)
      const cell = containment.cell("storm#0")
      const run = spawnInCell(cell, "/bin/sh", [fixture("fork-storm.sh")])
      learned.add(run.child.pid as number)
      expect(await run.firstLine).toBe("forking")
      expect(await waitUntil(() => cell.members().length >= 20)).toBe(true)
      cell.kill()
      expect(await waitUntil(() => cell.empty())).toBe(true)
      // Every sleeper the storm started carries the markers: none may be left anywhere.
      expect(markedProcesses(containment.samId)).toEqual([])
      await run.exited
      expect(await waitUntil(() => cell.release())).toBe(true)
      await containment.dispose()
      for (const dir of containment.record.cgroupDirs) expect(existsSync(dir)).toBe(false)
    })

    it("passes stdio, the environment and a Node IPC channel through the wrapper", async () => {
      const containment = contain(mode)
      const cell = containment.cell("ipc#0")
      const run = spawnInCell(cell, process.execPath, [fixture("ipc-echo.mjs")], { ipc: true })
      learned.add(run.child.pid as number)
      expect(await run.firstLine).toBe("ready")
      const answer = new Promise((resolve) => run.child.once("message", resolve))
      run.child.send({ hello: [1, 2n] })
      expect(await answer).toEqual({ echo: { hello: [1, 2n] }, cell: cell.id, pid: run.child.pid })
      expect(cell.members()).toEqual([run.child.pid])
      run.child.disconnect()
      await run.exited
      expect(await waitUntil(() => cell.empty())).toBe(true)
    })

    it.runIf(runAsNobody)(
      "runs as another user when asked (nobody, 65534), still inside the cell",
      async () => {
        const containment = contain(mode)
        const cell = containment.cell("nobody#0")
        const run = spawnInCell(cell, "/bin/sh", ["-c", "id -u; exec sleep 600"], { uid: 65534, gid: 65534 })
        learned.add(run.child.pid as number)
        expect(await run.firstLine).toBe("65534")
        const status = readFileSync(`/proc/${run.child.pid}/status`, "utf8")
        expect(status).toMatch(/^Uid:\t65534\t65534\t65534\t65534$/m)
        expect(status).toMatch(/^Gid:\t65534\t65534\t65534\t65534$/m)
        expect(status).toMatch(/^Groups:[ \t]*$/m)
        // `id` may still be exiting when its output arrives.
        expect(await waitUntil(() => cell.members().length === 1)).toBe(true)
        expect(cell.members()).toEqual([run.child.pid])
        cell.kill()
        expect(await waitUntil(() => cell.empty())).toBe(true)
      },
    )
  })
}

const processGroupMode = modes.find((m) => m.mode === "process-group")?.available === true

describe.runIf(processGroupMode)("process-group mode's documented escape", () => {
  it("loses a process that both leaves the group and clears its environment", async () => {
    const containment = contain("process-group")
    const cell = containment.cell("escape#0")
    const run = spawnInCell(cell, "/bin/sh", ["-c", "setsid env -i sleep 600 & echo $!; exec sleep 600"])
    learned.add(run.child.pid as number)
    const escaped = Number(await run.firstLine)
    learned.add(escaped)
    // Past setsid and past `env -i`'s exec into sleep: until then it still has the cell's marker.
    const cmdline = () => {
      try {
        return readFileSync(`/proc/${escaped}/cmdline`, "utf8")
      } catch {
        return ""
      }
    }
    expect(
      await waitUntil(() => readStat(escaped)?.session === escaped && cmdline().startsWith("sleep\0")),
    ).toBe(true)
    expect(cell.members()).toEqual([run.child.pid])
    cell.kill()
    expect(await waitUntil(() => cell.empty())).toBe(true)
    expect(survivors([escaped])).toEqual([escaped])
  })
})

describe("cell changes", () => {
  it("tell a late subscriber (the reaper) the leaders adopted so far, then adoptions and releases", async () => {
    const containment = contain("process-group")
    const first = containment.cell("a#0")
    const run = spawnInCell(first, "/bin/sh", ["-c", "echo up; exec sleep 600"])
    learned.add(run.child.pid as number)
    await run.firstLine
    const changes: unknown[] = []
    const unsubscribe = containment.subscribe((change) => changes.push(change))
    expect(changes).toEqual([{ type: "adopted", cell: first.id, pid: run.child.pid }])
    first.kill()
    await run.exited
    expect(await waitUntil(() => first.release())).toBe(true)
    expect(changes).toEqual([
      { type: "adopted", cell: first.id, pid: run.child.pid },
      { type: "released", cell: first.id, pid: run.child.pid },
    ])
    unsubscribe()
  })
})

describe("mode detection", () => {
  const plan = planCgroups(
    readFileSync("/proc/self/mountinfo", "utf8"),
    readFileSync("/proc/self/cgroup", "utf8"),
  )
  const v1Host = process.getuid?.() === 0 && plan.v1 !== undefined && plan.unified?.primary !== true
  if (!v1Host) console.info("cgroup-v1 detection case skipped: not root on a host with v1 pids + freezer")

  it.runIf(v1Host)("picks cgroup v1 on a root host where pids and freezer are v1 hierarchies", async () => {
    const containment = contain("cgroup-v1")
    expect(containment.info.mode).toBe("cgroup-v1")
    const detected = detectContainment()
    containments.push(detected)
    expect(detected.info).toMatchObject({
      mode: "cgroup-v1",
      detail: expect.stringContaining("cgroup v1 (pids + freezer)"),
    })
  })

  it.runIf(runAsNobody)("as an unprivileged user, falls back to process groups and says why", async () => {
    const run = spawnSync(
      "/usr/bin/setpriv",
      [
        "--reuid",
        "65534",
        "--regid",
        "65534",
        "--clear-groups",
        "--",
        process.execPath,
        fixture("print-containment.ts"),
      ],
      { encoding: "utf8", cwd: "/" },
    )
    expect(run.stderr).toBe("")
    const info = JSON.parse(run.stdout) as Containment["info"]
    expect(info.mode).toBe("process-group")
    expect(info.detail).toMatch(
      /^process groups \+ SAM_OWNER\/SAM_CELL environment markers \(no usable cgroup: cgroup-v1: cannot create cgroup .*EACCES/,
    )
  })

  it("falls back to process groups, or refuses a forced mode the host lacks with the reason", async () => {
    const forced = contain("process-group")
    expect(forced.info.detail).toContain(
      "process groups + SAM_OWNER/SAM_CELL environment markers (forced by option)",
    )
    expect(() => detectContainment({ force: "cgroup-v2", cgroupV2Dir: "/nonexistent/cgroup" })).toThrow(
      expect.objectContaining({
        _tag: "ContainmentUnavailable",
        message: expect.stringContaining("/nonexistent/cgroup"),
      }),
    )
    expect(() => detectContainment({ samId: "../etc" })).toThrow(
      expect.objectContaining({ _tag: "ContainmentError" }),
    )
  })

  it("without setpriv, says so and joins a run_as child from outside", () => {
    const containment = detectContainment({ force: "process-group", parentDeathSignal: false })
    containments.push(containment)
    expect(containment.info).toMatchObject({
      parentDeathSignal: false,
      detail: expect.stringContaining("no parent-death signal"),
    })
    expect(containment.cell("x#0").wrap("node", ["a.js"], { uid: 65534 })).toEqual({
      command: "node",
      args: ["a.js"],
      uid: 65534,
    })
  })
})

describe("cgroup paths from /proc text", () => {
  const hybridMountinfo = [
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer",
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
  ].join("\n")

  it("on a hybrid host: v1 dirs under SAM's own path per hierarchy, the unified one not primary", () => {
    const procCgroup = "9:name=systemd:/\n8:pids:/ci/job-1\n6:freezer:/\n4:memory:/process_api/2fc6\n0::/ci\n"
    expect(planCgroups(hybridMountinfo, procCgroup)).toEqual({
      unified: { dir: "/sys/fs/cgroup/unified/ci", primary: false },
      v1: { pids: "/sys/fs/cgroup/pids/ci/job-1", freezer: "/sys/fs/cgroup/freezer" },
    })
  })

  it("on a pure v2 systemd host: SAM's own service cgroup, primary", () => {
    const mountinfo =
      "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot"
    const procCgroup = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/sam.service\n"
    expect(planCgroups(mountinfo, procCgroup)).toEqual({
      unified: {
        dir: "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/sam.service",
        primary: true,
      },
    })
  })

  it("in a container that sees only its own sub-hierarchy, and with escaped mount points", () => {
    const mountinfo = [
      "700 690 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw",
      "701 690 0:31 /docker/abc /mnt/my\\040pids rw - cgroup cgroup rw,pids",
      "702 690 0:32 /elsewhere /mnt/freezer rw - cgroup cgroup rw,freezer",
    ].join("\n")
    const procCgroup = "3:pids:/docker/abc/worker\n2:freezer:/docker/abc\n0::/docker/abc\n"
    // freezer's mount shows /elsewhere, not SAM's /docker/abc: no v1 plan without both.
    expect(planCgroups(mountinfo, procCgroup)).toEqual({ unified: { dir: "/sys/fs/cgroup", primary: false } })
    const both = mountinfo.replace("/elsewhere /mnt/freezer", "/ /mnt/freezer")
    expect(planCgroups(both, procCgroup).v1).toEqual({
      pids: "/mnt/my pids/worker",
      freezer: "/mnt/freezer/docker/abc",
    })
  })
})

describe("the wrapper's argv", () => {
  const plan = {
    joinFiles: ["/cg/pids/sam-1/a.1/cgroup.procs", "/cg/freezer/sam-1/a.1/cgroup.procs"],
    setpriv: "/usr/bin/setpriv",
    cellId: "a.1",
  }

  it("joins every hierarchy with its own pid, then execs setpriv, which drops the user after setting pdeathsig", () => {
    const wrapped = wrapCommand(plan, "node", ["it's.js"], { uid: 65534, gid: 65534 })
    expect(wrapped.command).toBe("/bin/sh")
    expect(wrapped.args.slice(2)).toEqual(["sam-cell", "node", "it's.js"])
    expect(wrapped.args[1]).toBe(
      "{ echo $$ >/cg/pids/sam-1/a.1/cgroup.procs && echo $$ >/cg/freezer/sam-1/a.1/cgroup.procs; } 2>/dev/null" +
        " || { echo 'sam: cannot join containment cell a.1 (its cgroup is gone?)' >&2; exit 125; };" +
        ' exec /usr/bin/setpriv --pdeathsig KILL --regid 65534 --reuid 65534 --clear-groups -- "$@"',
    )
    expect(wrapped).not.toHaveProperty("uid")
  })

  it("without a change of user: setpriv first, then one shell joins the cell and checks SAM is its parent (two execs, not three)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-wrap-"))
    try {
      const procs = join(dir, "cgroup.procs")
      writeFileSync(procs, "")
      const wrapped = wrapCommand({ ...plan, joinFiles: [procs], parentPid: process.pid }, "/bin/sh", [
        "-c",
        "echo $$",
      ])
      expect(wrapped.command).toBe("/usr/bin/setpriv")
      expect(wrapped.args.slice(0, 5)).toEqual(["--pdeathsig", "KILL", "--", "/bin/sh", "-c"])
      expect(wrapped.args.slice(6)).toEqual([String(process.pid), "/bin/sh", "-c", "echo $$"])
      // For real: the command runs with the pid that joined, and with the parent-death signal set.
      const ran = spawnSync(wrapped.command, wrapped.args, { encoding: "utf8" })
      expect(ran).toMatchObject({ status: 0, stderr: "" })
      expect(readFileSync(procs, "utf8").trim()).toBe(ran.stdout.trim())
      const dumped = spawnSync(wrapped.command, [...wrapped.args.slice(0, 7), "/usr/bin/setpriv", "-d"], {
        encoding: "utf8",
      })
      expect(dumped.stdout).toMatch(/^Parent death signal: KILL$/m)
      // Told another parent, it does not start; a cell it cannot join, neither.
      const orphaned = spawnSync(wrapped.command, [...wrapped.args.slice(0, 6), "1", "/bin/echo", "ran"], {
        encoding: "utf8",
      })
      expect(orphaned).toMatchObject({ status: 125, stdout: "", stderr: "sam: SAM is gone: not starting\n" })
      const gone = wrapCommand({ ...plan, joinFiles: [join(dir, "gone", "cgroup.procs")] }, "/bin/echo", [
        "ran",
      ])
      expect(spawnSync(gone.command, gone.args, { encoding: "utf8" })).toMatchObject({
        status: 125,
        stdout: "",
        stderr: "sam: cannot join containment cell a.1 (its cgroup is gone?)\n",
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("with SAM's pid, checks after setpriv that SAM is still its parent (a pdeathsig set after it died never comes)", () => {
    const wrapped = wrapCommand({ ...plan, joinFiles: [], parentPid: 4242 }, "node", ["a.js"])
    expect(wrapped.command).toBe("/usr/bin/setpriv")
    expect(wrapped.args.slice(0, 5)).toEqual(["--pdeathsig", "KILL", "--", "/bin/sh", "-c"])
    expect(wrapped.args.slice(6)).toEqual(["4242", "node", "a.js"])
    // Run for real: its parent is this process, so it runs; told another parent, it does not.
    const check = (parent: number) =>
      spawnSync(wrapped.command, [...wrapped.args.slice(0, 6), String(parent), "/bin/echo", "ran"], {
        encoding: "utf8",
      })
    expect(check(process.pid)).toMatchObject({ status: 0, stdout: "ran\n" })
    expect(check(1)).toMatchObject({ status: 125, stdout: "", stderr: "sam: SAM is gone: not starting\n" })
  })

  it("needs no shell without cgroups, and nothing at all without setpriv", () => {
    expect(wrapCommand({ ...plan, joinFiles: [] }, "node", ["a.js"])).toEqual({
      command: "/usr/bin/setpriv",
      args: ["--pdeathsig", "KILL", "--", "node", "a.js"],
    })
    expect(wrapCommand({ ...plan, joinFiles: [], setpriv: undefined }, "node", ["a.js"], { gid: 5 })).toEqual(
      {
        command: "node",
        args: ["a.js"],
        gid: 5,
      },
    )
  })

  it("keeps the driver's 'command not found' check possible: findExecutable resolves like execvp", () => {
    expect(findExecutable("sh", "/nonexistent:/bin:/usr/bin", "/")).toMatch(/\/sh$/)
    expect(findExecutable("no-such-command-here", "/bin:/usr/bin", "/")).toBeUndefined()
    expect(findExecutable("./sh", "", "/bin")).toBe("/bin/sh")
    expect(findExecutable("bin", "/", "/")).toBeUndefined() // a directory is not a command
  })
})
