// Temporary directories of real config files for tests; every directory is removed after its test.

import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterEach } from "vitest"

const created: Array<string> = []

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

/** A fresh directory holding `files` (relative path -> content); removed after the test. */
export const tempDir = async (files: Record<string, string> = {}): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "sam-config-"))
  created.push(dir)
  await writeFiles(dir, files)
  return dir
}

export const writeFiles = async (
  dir: string,
  files: Record<string, string>,
  mode?: number,
): Promise<void> => {
  for (const [name, content] of Object.entries(files)) {
    const file = join(dir, name)
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, content)
    if (mode !== undefined) await chmod(file, mode)
  }
}

/** The project root, for importing src/ from config files written to temp dirs. */
export const repoRoot = join(import.meta.dirname, "..", "..")
