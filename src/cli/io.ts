// What a command may touch of the outside world; the real process here, a fake one in tests.

export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** All of stdin (for `sam secrets set <key>` without a value). */
  readonly readStdin: () => Promise<string>
  readonly stdinIsTTY: boolean
  /** The terminal's width when stdout is one (undefined: a pipe or a file, no width to fit). */
  readonly columns?: number | undefined
  readonly env: Record<string, string | undefined>
  readonly cwd: string
}

export const processIo = (): CliIo => ({
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: async () => {
    const chunks: Array<Buffer> = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString("utf8")
  },
  stdinIsTTY: process.stdin.isTTY === true,
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  env: process.env,
  cwd: process.cwd(),
})
