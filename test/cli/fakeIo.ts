// An in-memory CliIo for running commands in-process.

import type { CliIo } from "../../src/cli/io.ts"

export const fakeIo = (options: { cwd?: string; env?: Record<string, string>; stdin?: string } = {}) => {
  let stdout = ""
  let stderr = ""
  const io: CliIo & { out: () => string; err: () => string } = {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    readStdin: async () => options.stdin ?? "",
    stdinIsTTY: false,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    out: () => stdout,
    err: () => stderr,
  }
  return io
}
