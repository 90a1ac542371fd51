// Gateway throughput on loopback: req/s and p50/p99 latency of GET (1 KiB body) straight to an
// nginx upstream, through nginx (proxy_pass, keepalive upstream), through a bare node:http +
// undici Pool.stream proxy, through SAM's gateway, and through two bare proxies sharing the port
// with SO_REUSEPORT (what a multi-core data plane could reach), printed as ratios. Load comes from
// wrk in its own process (C, one thread, 64 connections). Besides req/s, the CPU time each proxy
// spent per request (from /proc) is printed: it holds up when other work shares the cores. Installs nginx and wrk (Debian) when
// missing. Everything listens on 127.0.0.1 and stops by itself.
// The variants take turns for `rounds` rounds; the medians are printed.
// Run: node bench/gateway.bench.ts [seconds] [rounds]   (default 5 s a turn, 3 rounds, 2 s warm-up)
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { cpus, loadavg, tmpdir } from "node:os"
import { join } from "node:path"

const seconds = Number(process.argv[2] ?? 5)
const rounds = Number(process.argv[3] ?? 3)
/** `npm run bench`'s gateway step: print {"figures": [...]} last (bench/harness/scriptStep.ts). */
const json = process.argv.includes("--json")
const warmup = 2
const connections = 64
const here = import.meta.dirname
const node = process.execPath
const dir = mkdtempSync(join(tmpdir(), "sam-gateway-bench-"))
const children: ChildProcess[] = []

const has = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0

/** nginx and wrk from Debian, installed non-interactively when missing. */
const ensureTools = () => {
  const missing = [has("nginx") ? undefined : "nginx-light", has("wrk") ? undefined : "wrk"].filter(
    (p): p is string => p !== undefined,
  )
  if (missing.length === 0) return
  console.log(`installing ${missing.join(", ")} (apt-get)`)
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env })
  execFileSync("apt-get", ["install", "-y", "-qq", ...missing], { stdio: "inherit", env })
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Start a process and wait for it to print "listening". */
const launch = (command: string, args: ReadonlyArray<string>) =>
  new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })
    children.push(child)
    let output = ""
    const timer = setTimeout(() => reject(new Error(`${command} did not start: ${output}`)), 20_000)
    const onData = (data: Buffer) => {
      output += data.toString()
      if (output.includes("listening")) {
        clearTimeout(timer)
        resolve(child)
      }
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", (data: Buffer) => {
      output += data.toString()
    })
    child.once("exit", (code) => reject(new Error(`${command} exited ${code}: ${output}`)))
  })

/** An nginx with one worker; `body` is the server block's content. */
const nginx = async (name: string, port: number, body: string, http = "") => {
  const prefix = join(dir, name)
  spawnSync("mkdir", ["-p", join(prefix, "logs")])
  const conf = join(prefix, "nginx.conf")
  writeFileSync(
    conf,
    `worker_processes 1;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/logs/error.log warn;\n` +
      "events { worker_connections 4096; }\n" +
      `http {\n  access_log off;\n  keepalive_requests 1000000;\n${http}\n` +
      `  server {\n    listen 127.0.0.1:${port} reuseport;\n${body}\n  }\n}\n`,
  )
  const child = spawn("nginx", ["-p", prefix, "-c", conf, "-g", "daemon off;"], { stdio: "ignore" })
  children.push(child)
  // nginx prints nothing when it is up: wait for the port to answer.
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const ok = spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0
    if (ok) return child
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nginx ${name} did not listen on ${port}`)
}

interface Result {
  /** CPU time (user + system) the proxy's processes spent per request, µs. */
  readonly cpuMicros: number
  readonly requestsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly errors: string
}

const toMs = (text: string): number => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim())
  if (!m) return Number.NaN
  const n = Number(m[1])
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n
}

const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100

/** CPU seconds (user + system) of `pids` so far, from /proc. */
const cpuSeconds = (pids: ReadonlyArray<number>): number =>
  pids.reduce((total, pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      return total + (Number(fields[11]) + Number(fields[12])) / clockTicks
    } catch {
      return total
    }
  }, 0)

/** nginx's worker processes (the master only forks them). */
const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter((p) => p !== "")
      .map(Number)
  } catch {
    return []
  }
}

const wrk = (url: string, duration: number, pids: ReadonlyArray<number> = []): Result => {
  const cpuBefore = cpuSeconds(pids)
  const out = execFileSync("wrk", ["-t1", `-c${connections}`, `-d${duration}s`, "--latency", url], {
    encoding: "utf8",
  })
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN)
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? "")
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? "")
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN)
  const cpuMicros = pids.length === 0 ? Number.NaN : ((cpuSeconds(pids) - cpuBefore) / requests) * 1e6
  const errors = [/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[0], /Socket errors: .*/.exec(out)?.[0]]
    .filter(Boolean)
    .join("; ")
  return { cpuMicros, requestsPerSecond: rps, p50Ms: p50, p99Ms: p99, errors }
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

const main = async () => {
  ensureTools()
  const body = "x".repeat(1024)
  const upstreamPort = await freePort()
  const upstreamNginx = await nginx(
    "upstream",
    upstreamPort,
    `    location / { default_type text/plain; return 200 "${body}"; }`,
  )
  const upstream = `http://127.0.0.1:${upstreamPort}`
  const nginxPort = await freePort()
  const proxyNginx = await nginx(
    "proxy",
    nginxPort,
    '    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }',
    `  upstream up { server 127.0.0.1:${upstreamPort}; keepalive 64; }`,
  )
  const barePort = await freePort()
  const bare = await launch(node, [join(here, "fixtures", "bareProxy.mjs"), upstream, String(barePort)])
  const samPort = await freePort()
  const sam = await launch(node, [join(here, "fixtures", "gatewaySam.ts"), upstream, String(samPort)])
  const sharedPort = await freePort()
  const pair = await Promise.all(
    [0, 1].map(() =>
      launch(node, [join(here, "fixtures", "bareProxy.mjs"), upstream, String(sharedPort), "reuse"]),
    ),
  )
  // Every server is up (idle when not measured); the variants take turns, round after round, so
  // a burst of load from elsewhere on the machine lands on all of them alike.
  const pid = (child: ChildProcess) => child.pid as number
  const variants: ReadonlyArray<readonly [string, string, ReadonlyArray<number>]> = [
    ["direct (nginx upstream)", `${upstream}/`, childrenOf(pid(upstreamNginx))],
    [
      "nginx proxy_pass (1 worker, keepalive 64)",
      `http://127.0.0.1:${nginxPort}/`,
      childrenOf(pid(proxyNginx)),
    ],
    ["bare node:http + undici Pool.stream", `http://127.0.0.1:${barePort}/`, [pid(bare)]],
    ["SAM gateway (/api/upstream/)", `http://127.0.0.1:${samPort}/api/upstream/`, [pid(sam)]],
    ["2 bare proxies, SO_REUSEPORT", `http://127.0.0.1:${sharedPort}/`, pair.map(pid)],
  ]
  const loadBefore = loadavg()[0]
  for (const [, url, pids] of variants) wrk(url, warmup, pids)
  const runs = new Map<string, Result[]>(variants.map(([name]) => [name, []]))
  for (let round = 0; round < rounds; round++)
    for (const [name, url, pids] of variants) runs.get(name)?.push(wrk(url, seconds, pids))
  const loadAfter = loadavg()[0]
  const results = variants.map(([name]) => {
    const all = runs.get(name) ?? []
    const result: Result = {
      cpuMicros: median(all.map((r) => r.cpuMicros)),
      requestsPerSecond: median(all.map((r) => r.requestsPerSecond)),
      p50Ms: median(all.map((r) => r.p50Ms)),
      p99Ms: median(all.map((r) => r.p99Ms)),
      errors: all
        .map((r) => r.errors)
        .filter((e) => e !== "")
        .join("; "),
    }
    return [name, result] as const
  })
  const byName = new Map(results)
  const bareRps = byName.get("bare node:http + undici Pool.stream")?.requestsPerSecond ?? Number.NaN
  const nginxRps = byName.get("nginx proxy_pass (1 worker, keepalive 64)")?.requestsPerSecond ?? Number.NaN
  console.log(
    `\ngateway bench: GET 1 KiB, wrk -t1 -c${connections}, ${warmup} s warm-up, median of ${rounds} rounds of ${seconds} s, ` +
      `${cpus().length} cores, Node ${process.version}, load average ${loadBefore?.toFixed(1)} → ${loadAfter?.toFixed(1)}\n`,
  )
  console.log("| variant | req/s | p50 | p99 | CPU/request | vs bare proxy | vs nginx | errors |")
  console.log("|---|---|---|---|---|---|---|---|")
  for (const [name, r] of results)
    console.log(
      `| ${name} | ${Math.round(r.requestsPerSecond).toLocaleString("en")} | ${r.p50Ms.toFixed(2)} ms | ${r.p99Ms.toFixed(2)} ms | ${r.cpuMicros.toFixed(1)} µs | ` +
        `${(r.requestsPerSecond / bareRps).toFixed(2)}x | ${(r.requestsPerSecond / nginxRps).toFixed(2)}x | ${r.errors || "-"} |`,
    )
  const samRps = byName.get("SAM gateway (/api/upstream/)")?.requestsPerSecond ?? Number.NaN
  const samCpu = byName.get("SAM gateway (/api/upstream/)")?.cpuMicros ?? Number.NaN
  const bareCpu = byName.get("bare node:http + undici Pool.stream")?.cpuMicros ?? Number.NaN
  console.log(
    `\nSAM / bare proxy: ${(samRps / bareRps).toFixed(2)} in req/s (bar: >= 0.9); ` +
      `${(bareCpu / samCpu).toFixed(2)} in CPU per request (bare's CPU / SAM's: the same measure without the machine's other load)`,
  )
  if (json) {
    const name = `GET 1 KiB through a proxy, wrk -c${connections}`
    const bareName = "bare node:http + undici proxy"
    const figures = [
      ...results.map(([subject, r]) => ({
        step: "gateway",
        name,
        subject,
        value: r.requestsPerSecond,
        unit: "/s",
        ...(subject === "SAM gateway (/api/upstream/)"
          ? {
              baseline: { subject: bareName, value: bareRps },
              target: { kind: "ratio-at-least", ratio: 0.9 },
            }
          : {}),
      })),
      {
        step: "gateway",
        name: "CPU per proxied request",
        subject: "SAM gateway",
        value: samCpu,
        unit: "µs",
        baseline: { subject: bareName, value: bareCpu },
        note: "user + system CPU of the proxy's processes per request (less moved by the machine's other load than req/s)",
      },
    ]
    console.log(JSON.stringify({ figures }))
  }
}

const cleanup = () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
  rmSync(dir, { recursive: true, force: true })
}

main().then(
  () => {
    cleanup()
  },
  (error: unknown) => {
    cleanup()
    console.error(error)
    process.exitCode = 1
  },
)
