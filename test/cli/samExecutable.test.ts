// What the `sam` executable (bin/sam.js) does before the CLI runs: `sam start` re-executes itself
// once, same pid, with glibc's MALLOC_ARENA_MAX=2 and the units it starts do not inherit the
// variable; every command keeps V8's code cache in the user's cache dir.
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { projectPerTest, untilUnit } from "../support/daemon.ts"
import { repoRoot } from "./runSam.ts"

const newProject = projectPerTest()

/** The environment a process was exec'd with (the last exec: /proc shows the current image's). */
const execEnvironment = (pid: number): Record<string, string> =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
  )

const start = async (env: Record<string, string>) => {
  const p = newProject("sam.config.json", "bin")
  const dump = join(p.dir, "service-env.json")
  p.writeConfig({
    services: {
      dump: {
        deployment: {
          mode: "process",
          command: process.execPath,
          args: [
            "-e",
            `require("fs").writeFileSync(${JSON.stringify(dump)}, JSON.stringify(process.env)); setInterval(() => {}, 60_000)`,
          ],
        },
      },
    },
  })
  const daemon = await p.start([], env)
  await daemon.waitForOutput("press Ctrl+C")
  await untilUnit(daemon, "services", "dump", (s) => s.status === "running")
  // Read once whole: the unit writes the file in one go, but may be caught between open and write.
  const written = (): Record<string, string> | undefined => {
    try {
      return JSON.parse(readFileSync(dump, "utf8")) as Record<string, string>
    } catch {
      return undefined
    }
  }
  await expect.poll(written, { timeout: 15_000 }).toBeDefined()
  return { daemon: execEnvironment(daemon.pid), service: written() as Record<string, string> }
}

describe.runIf(process.platform === "linux")("sam start and glibc's malloc arenas", () => {
  it("runs the daemon (same pid) with MALLOC_ARENA_MAX=2, and no unit inherits it", async () => {
    const { daemon, service } = await start({})
    expect(daemon.MALLOC_ARENA_MAX).toBe("2")
    expect(service.MALLOC_ARENA_MAX).toBeUndefined()
    expect(service.SAM_REEXECUTED).toBeUndefined()
    expect(service.PATH).toBe(process.env.PATH)
  })

  it("keeps a MALLOC_ARENA_MAX of the user's own, for itself and its units", async () => {
    const { daemon, service } = await start({ MALLOC_ARENA_MAX: "4" })
    expect(daemon.MALLOC_ARENA_MAX).toBe("4")
    expect(daemon.SAM_REEXECUTED).toBeUndefined()
    expect(service.MALLOC_ARENA_MAX).toBe("4")
  })
})

describe("the sam executable's code cache", () => {
  const sam = join(repoRoot, "bin", "sam.js")
  const run = (env: Record<string, string>) => {
    const result = spawnSync(process.execPath, [sam, "--version"], {
      env: { PATH: process.env.PATH ?? "", ...env },
      encoding: "utf8",
      timeout: 20_000,
    })
    expect(result.status, result.stderr).toBe(0)
  }
  /** Files under `dir`, at any depth. */
  const files = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => e.name)
      : []

  it("is written under $XDG_CACHE_HOME/sam (else ~/.cache/sam), not at all with NODE_DISABLE_COMPILE_CACHE=1, in NODE_COMPILE_CACHE when set, and never under a cache home that is not there", () => {
    const home = mkdtempSync(join(tmpdir(), "sam-cache-"))
    try {
      run({ HOME: home, XDG_CACHE_HOME: join(home, "xdg") })
      expect(files(join(home, "xdg", "sam", "node-compile-cache")).length).toBeGreaterThan(0)
      run({ HOME: home })
      expect(files(join(home, ".cache", "sam", "node-compile-cache")).length).toBeGreaterThan(0)
      run({ HOME: home, XDG_CACHE_HOME: join(home, "off"), NODE_DISABLE_COMPILE_CACHE: "1" })
      expect(existsSync(join(home, "off"))).toBe(false)
      run({ HOME: home, XDG_CACHE_HOME: join(home, "unused"), NODE_COMPILE_CACHE: join(home, "own") })
      expect(existsSync(join(home, "unused"))).toBe(false)
      expect(files(join(home, "own")).length).toBeGreaterThan(0)
      // A cache home that is not a directory one can make dirs in: no cache, and no hang (Node's
      // recursive mkdir loops on /proc paths) and nothing made where HOME does not exist.
      run({ HOME: home, XDG_CACHE_HOME: "/proc/sam-no-such-dir" })
      run({ HOME: join(home, "nonexistent") })
      expect(existsSync(join(home, "nonexistent"))).toBe(false)
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})
