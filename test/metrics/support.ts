// Test support for the metrics: wait for a condition with a deadline, run promtool on a scrape,
// read the families of a Prometheus text (name → type and the label names of its samples), and an
// HTTP receiver of webhooks on 127.0.0.1 that records what it is sent.
import { spawnSync } from "node:child_process"
import { createServer, type IncomingMessage, type Server } from "node:http"

/** Resolves once `check` holds (checked every 20 ms); rejects with `what` after the deadline. */
export const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** `promtool check metrics` on `text` (stdin): its exit code and what it printed. */
export const promtoolCheck = (text: string): { code: number | null; output: string } => {
  const run = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" })
  if (run.error)
    throw new Error(
      `promtool is not installed (${run.error.message}): apt-get install prometheus (.ci/run does this)`,
    )
  return { code: run.status, output: `${run.stdout}${run.stderr}` }
}

export interface Family {
  readonly type: string
  /** The label names of each sample (sorted, `le` and `quantile` left out), as "a,b,c". */
  readonly labelSets: ReadonlySet<string>
  readonly samples: ReadonlyArray<{
    readonly name: string
    readonly labels: Record<string, string>
    readonly value: number
  }>
}

const suffixes = ["_bucket", "_sum", "_count"]

/** The families of a Prometheus text by name. */
export const families = (text: string): Map<string, Family> => {
  const out = new Map<
    string,
    { type: string; labelSets: Set<string>; samples: Family["samples"][number][] }
  >()
  const types = new Map<string, string>()
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type) {
      types.set(type[1]!, type[2]!)
      out.set(type[1]!, { type: type[2]!, labelSets: new Set(), samples: [] })
      continue
    }
    if (line === "" || line.startsWith("#")) continue
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!sample) throw new Error(`not a sample line: ${line}`)
    const name = sample[1]!
    const family =
      out.get(name) ?? out.get(suffixes.reduce((n, s) => (n.endsWith(s) ? n.slice(0, -s.length) : n), name))
    if (!family) throw new Error(`sample without a TYPE: ${line}`)
    const labels: Record<string, string> = {}
    for (const m of (sample[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[m[1]!] = m[2]!
    family.labelSets.add(
      Object.keys(labels)
        .filter((k) => k !== "le" && k !== "quantile")
        .sort()
        .join(","),
    )
    family.samples.push({ name, labels, value: Number(sample[3]) })
  }
  return out
}

export interface Receiver {
  readonly url: string
  /** Bodies received (parsed JSON), in order. */
  readonly bodies: unknown[]
  /** Requests that arrived (also those it never answers). */
  readonly requests: () => number
  close(): Promise<void>
}

/**
 * An Alertmanager-style webhook receiver: records each POSTed JSON body and answers `status`
 * (200), or never answers with `hang: true` (connections are cut at close).
 */
export const startReceiver = async (options: { status?: number; hang?: boolean } = {}): Promise<Receiver> => {
  const bodies: unknown[] = []
  let requests = 0
  const server: Server = createServer((req: IncomingMessage, res) => {
    requests++
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")))
      if (options.hang) return
      res.writeHead(options.status ?? 200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    bodies,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
