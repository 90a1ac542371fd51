import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { loadConfig, validateConfigObject } from "../../src/config/load.ts"
import { unitSpecsFromConfig } from "../../src/runtime/fromConfig.ts"
import { repoRoot, tempDir } from "./tempDir.ts"

/** Loads `files` (main file sam.yaml) and returns the ConfigError it must fail with. */
const failure = async (
  files: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ConfigError> => {
  const dir = await tempDir(files)
  const error = await loadConfig({
    cwd: dir,
    configPath: files["sam.yaml"] === undefined ? "sam.config.ts" : "sam.yaml",
    env,
  }).catch((e: unknown) => e)
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`)
  return error
}

const lines = (error: ConfigError) => error.format().split("\n")

const yaml = (...rows: Array<string>) => `${rows.join("\n")}\n`
/** The problems of a sam.yaml made of `rows`, one line each. */
const check = async (rows: Array<string>) => lines(await failure({ "sam.yaml": yaml(...rows) }))
const ext = (port: number) => `{ mode: external, url: 'http://localhost:${port}' }`

describe("schema errors name file, path, line:column, expected and found", () => {
  it("points into the YAML layer that set the bad value", async () => {
    const error = await failure({
      "sam.yaml": yaml(
        "services:",
        "  qdrant:",
        "    deployment: { mode: external, url: 'http://localhost:6333' }",
      ),
      "system.yaml": yaml("# ops settings", "services:", "  qdrant:", "    restart_policy: sometimes"),
    })
    expect(error.issues).toEqual([
      {
        file: "system.yaml",
        path: "services.qdrant.restart_policy",
        line: 4,
        column: 21,
        expected: '"always" | "on-failure" | "never" or an object',
        found: '"sometimes"',
        message: "invalid value",
      },
    ])
    expect(error.format()).toBe(
      'system.yaml:4:21 services.qdrant.restart_policy: expected "always" | "on-failure" | "never" or an object, found "sometimes"',
    )
  })

  it("rejects unknown keys with a did-you-mean hint, at the key", async () => {
    const error = await failure({
      "sam.yaml": yaml("agents:", "  a:", "    path: /a", "    helth_check: { endpoint: /h }", "apii: {}"),
    })
    expect(lines(error)).toEqual([
      'sam.yaml:4:5 agents.a.helth_check: unknown key "helth_check" (did you mean "health_check"?)',
      'sam.yaml:5:1 apii: unknown key "apii" (did you mean "api"?)',
    ])
  })

  it("an unknown key that PM2, Compose or Kubernetes spell so names SAM's key for it", async () => {
    const error = await failure({
      "sam.yaml": yaml(
        "agents:",
        "  a:",
        "    path: /a",
        "    env: { A: b }",
        "services:",
        "  s:",
        "    deployment: { mode: process, command: node }",
        "    instances: 4",
        "    replicas: 2",
        "    stop_grace_period: 5",
        "    instancs: 4",
        "    max_memory_restart: 200M",
        "    scaling: { instances: 2 }",
        "  t:",
        "    deployment: { mode: process, command: node }",
        "    depends_on:",
        "      s: { condition: service_started, restart: true, required: false }",
      ),
    })
    expect(lines(error)).toEqual([
      'sam.yaml:4:5 agents.a.env: unknown key "env" (SAM\'s key for it is environment)',
      'sam.yaml:8:5 services.s.instances: unknown key "instances" (SAM\'s key for it is scaling.min_instances)',
      'sam.yaml:9:5 services.s.replicas: unknown key "replicas" (SAM\'s key for it is scaling.min_instances)',
      'sam.yaml:10:5 services.s.stop_grace_period: unknown key "stop_grace_period" (SAM\'s key for it is stop.grace_seconds)',
      'sam.yaml:11:5 services.s.instancs: unknown key "instancs"',
      "sam.yaml:12:5 services.s.max_memory_restart: unknown key \"max_memory_restart\" (SAM's key for it is resources.max_memory_mb, on a process service's whole process tree)",
      'sam.yaml:13:16 services.s.scaling.instances: unknown key "instances" (SAM\'s key for it is scaling.min_instances, and scaling.max_instances for the most it may run)',
      "sam.yaml:17:40 services.t.depends_on.s.restart: unknown key \"restart\" (SAM's key for it is the unit's dependency_restart: restart, for all its dependencies)",
      'sam.yaml:17:55 services.t.depends_on.s.required: unknown key "required" (SAM has none: every dependency is required; leave an optional one out of depends_on)',
    ])
  })

  it("a fixed port cannot be shared by several instances; a count that is itself wrong is told once", async () => {
    const service = (min: number) =>
      yaml(
        "services:",
        "  web:",
        "    deployment: { mode: process, command: node, port: 8080 }",
        `    scaling: { min_instances: ${min}, max_instances: 3 }`,
      )
    expect(lines(await failure({ "sam.yaml": service(2) }))).toEqual([
      "sam.yaml:3:55 services.web.deployment.port: fixed port 8080 cannot be shared by 2 instances (scaling.min_instances)",
    ])
    expect(lines(await failure({ "sam.yaml": service(2.5) }))).toEqual([
      "sam.yaml:4:31 services.web.scaling.min_instances: expected an integer, found 2.5",
    ])
  })

  it("a misspelt choice gets the choice it is closest to", async () => {
    const error = await failure({
      "sam.yaml": yaml(
        "agents:",
        "  a: { path: /a, runtime: sandboxed }",
        "services:",
        "  s:",
        "    deployment: { mode: proces, command: node }",
        "    autorestart: false",
      ),
    })
    expect(lines(error)).toEqual([
      'sam.yaml:2:27 agents.a.runtime: expected "sandbox" | "process" | "worker" | "inline", found "sandboxed" (did you mean "sandbox"?)',
      'sam.yaml:5:25 services.s.deployment.mode: expected "process" | "container" | "external", found "proces" (did you mean "process"?)',
      'sam.yaml:6:5 services.s.autorestart: unknown key "autorestart" (SAM\'s key for it is restart_policy)',
    ])
  })

  it("takes a number or boolean in env as its text (PORT: 3000), as Compose does; not an object", async () => {
    const dir = await tempDir({
      "sam.yaml": yaml(
        "agents:",
        "  a: { path: /a, environment: { RETRIES: 3, VERBOSE: false } }",
        "services:",
        "  s:",
        "    deployment: { mode: process, command: node, env: { PORT_HINT: 3000, RATIO: 0.5, DEBUG: true, NAME: x } }",
      ),
    })
    const { config } = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: {} })
    expect(config.services.s?.deployment.env).toEqual({
      PORT_HINT: "3000",
      RATIO: "0.5",
      DEBUG: "true",
      NAME: "x",
    })
    expect(config.agents.a?.environment).toEqual({ RETRIES: "3", VERBOSE: "false" })
    const error = await failure({
      "sam.yaml": yaml(
        "services:",
        "  s:",
        "    deployment: { mode: process, command: node, env: { A: { b: 1 } } }",
      ),
    })
    expect(lines(error)).toEqual([
      expect.stringMatching(/^sam\.yaml:3:\d+ services\.s\.deployment\.env\.A: /),
    ])
  })

  it("reports every problem at once, schema and cross checks together", async () => {
    const error = await failure({
      "sam.yaml": yaml(
        "api: { port: 70000 }",
        "agents:",
        "  a:",
        "    runtime: docker",
        "    depends_on: [ghost]",
        "services:",
        "  s:",
        "    deployment: { mode: process }",
        "    scaling: { min_instances: 0.5 }",
      ),
    })
    expect(lines(error)).toEqual([
      "sam.yaml:1:14 api.port: expected a value between 0 and 65535, found 70000",
      "sam.yaml:3:3 agents.a.path: required but missing",
      'sam.yaml:4:14 agents.a.runtime: expected "sandbox" | "process" | "worker" | "inline", found "docker"',
      'sam.yaml:5:18 agents.a.depends_on[0]: depends on "ghost", which is no agent or service',
      'sam.yaml:8:5 services.s.deployment.command: required when mode is "process" (the executable to run)',
      "sam.yaml:9:31 services.s.scaling.min_instances: expected an integer, found 0.5",
    ])
  })

  it("names the TS file, the line:column of the key as written, and the path", async () => {
    const error = await failure({ "sam.config.ts": "export default { api: { port: 'x' } }\n" })
    expect(error.format()).toBe('sam.config.ts:1:31 api.port: expected a number, found "x"')
    // A value a variable supplies is placed at the nearest key written (sourcePositions.ts).
    const shared = await failure({
      "sam.config.ts": "const api = { port: 'x' }\nexport default { api }\n",
    })
    expect(shared.format()).toBe('sam.config.ts:2:18 api.port: expected a number, found "x"')
  })

  it("reports YAML syntax errors with line:column in every file before validating", async () => {
    const error = await failure({
      "sam.yaml": yaml("api:", "  port: 1", " host: x"),
      "system.yaml": yaml("a: 1", "a: 2"),
    })
    expect(error.issues.map((i) => [i.file, i.line, i.column])).toEqual([
      ["sam.yaml", 3, 1],
      ["system.yaml", 2, 1],
    ])
    expect(error.issues[1]!.message).toMatch(/unique/)
  })

  it("a key set twice in a YAML mapping is named by its path, with both lines", async () => {
    const error = await failure({
      "sam.yaml": yaml(
        "services:",
        "  web:",
        "    port: 1",
        "    deployment: { mode: process, command: x, args: [a], args: [b] }",
        "    port: 2",
      ),
    })
    expect(lines(error)).toEqual([
      "sam.yaml:4:57 services.web.deployment.args is set twice, on line 4: a YAML mapping's keys must be unique; keep one",
      "sam.yaml:5:5 services.web.port is set twice, lines 3 and 5: a YAML mapping's keys must be unique; keep one",
    ])
  })

  it("locates errors in JSON files too", async () => {
    const error = await failure({
      "sam.yaml": "{}\n",
      "defaults.json": '{\n  "api": {\n    "host": 1\n  }\n}\n',
    })
    expect(error.format()).toBe("defaults.json:3:13 api.host: expected a string, found 1")
  })

  it("rejects a file that is not a mapping", async () => {
    const error = await failure({ "sam.yaml": "- a\n- b\n" })
    expect(error.format()).toBe("sam.yaml expected a mapping of settings, found an array")
  })
})

describe("cross-field checks", () => {
  it("depends_on must name an agent or service (did you mean)", async () => {
    expect(
      await check([
        "services:",
        `  qdrant: { deployment: ${ext(1)} }`,
        `  app: { deployment: ${ext(2)}, depends_on: [qdrnt] }`,
      ]),
    ).toEqual([
      'sam.yaml:3:82 services.app.depends_on[0]: depends on "qdrnt", which is no agent or service (did you mean "qdrant"?)',
    ])
  })

  it("prints dependency cycles", async () => {
    expect(
      await check([
        "services:",
        `  a: { deployment: ${ext(1)}, depends_on: [b] }`,
        `  b: { deployment: ${ext(2)}, depends_on: [c] }`,
        `  c: { deployment: ${ext(3)}, depends_on: [a] }`,
        `  d: { deployment: ${ext(4)}, depends_on: [d] }`,
      ]),
    ).toEqual([
      "sam.yaml:2:79 services.a.depends_on: dependency cycle: a -> b -> c -> a",
      "sam.yaml:5:79 services.d.depends_on: dependency cycle: d -> d",
    ])
  })

  it("finds duplicate fixed ports across deployment.port, env PORT, container host ports and the API", async () => {
    expect(
      await check([
        "api: { port: 9000 }",
        "services:",
        "  a: { deployment: { mode: process, command: x, port: 8080, env: { PORT: '8080' } } }",
        "  b: { deployment: { mode: process, command: x, env: { PORT: '8080' } } }",
        "  c: { deployment: { mode: container, image: i, ports: ['127.0.0.1:9000:80', '7000:70', '7000:71'] } }",
        "  d: { enabled: false, deployment: { mode: process, command: x, port: 8080 } }",
      ]),
    ).toEqual([
      "sam.yaml:4:62 services.b.deployment.env.PORT: port 8080 is also used by services.a.deployment.port",
      "sam.yaml:5:57 services.c.deployment.ports[0]: port 9000 is also used by api.port",
      "sam.yaml:5:89 services.c.deployment.ports[2]: host port 7000 is also mapped by services.c.deployment.ports[1]",
    ])
  })

  it("finds a fixed port that a scaled service's instance would take (deployment.port + instance)", async () => {
    expect(
      await check([
        "services:",
        "  fixed: { deployment: { mode: process, command: x, port: 48160 }, scaling: { max_instances: 3 } }",
        "  fixed2: { deployment: { mode: process, command: x, port: 48161 } }",
        "  later: { deployment: { mode: process, command: x, port: 48170 }, scaling: { max_instances: 2 } }",
        "  taken: { deployment: { mode: process, command: x, port: 48169 }, scaling: { max_instances: 2 } }",
      ]),
    ).toEqual([
      "sam.yaml:3:60 services.fixed2.deployment.port: port 48161 is also used by services.fixed.deployment.port (48160 + instance 1, as scaling.max_instances is 3)",
      "sam.yaml:5:59 services.taken.deployment.port: port 48170 (48169 + instance 1, as scaling.max_instances is 2) is also used by services.later.deployment.port",
    ])
  })

  it("rejects ids that are reserved API paths, malformed, or shared by an agent and a service", async () => {
    expect(
      await check([
        "agents:",
        "  both: { path: /a }",
        "services:",
        `  status: { deployment: ${ext(1)} }`,
        `  9lives: { deployment: ${ext(2)} }`,
        `  both: { deployment: ${ext(3)} }`,
      ]),
    ).toEqual([
      'sam.yaml:4:3 services.status: id "status" is reserved by the control API (/status); choose another id',
      'sam.yaml:5:3 services["9lives"]: id "9lives" must start with a letter and use only letters, digits, _ and -',
      'sam.yaml:6:3 services.both: id "both" is used by both an agent and a service; ids must be unique',
    ])
  })

  it("requires what each deployment mode needs", async () => {
    expect(
      await check([
        "services:",
        "  p: { deployment: { mode: process } }",
        "  c: { deployment: { mode: container } }",
        "  e: { deployment: { mode: external } }",
        "  u: { deployment: { mode: external, url: 'not a url' } }",
      ]),
    ).toEqual([
      'sam.yaml:2:8 services.p.deployment.command: required when mode is "process" (the executable to run)',
      'sam.yaml:3:8 services.c.deployment.image: required when mode is "container" (the image to run)',
      'sam.yaml:4:8 services.e.deployment.url: required when mode is "external" (where the service is reached)',
      'sam.yaml:5:43 services.u.deployment.url: expected an absolute URL like http://host:port, found "not a url"',
    ])
  })

  it("checks scaling bounds, supervision groups, health checks, plugins and backoff", async () => {
    expect(
      await check([
        "supervision: { groups: { storage: { strategy: one_for_all } } }",
        "plugins: [{ enabled: true }]",
        "agents:",
        "  a: { path: /a, group: storag, health_check: { interval_seconds: 5 } }",
        "  b: { path: /b, health_check: { type: exec }, restart_policy: { backoff_seconds: 60, max_backoff_seconds: 10 } }",
        "services:",
        `  s: { deployment: ${ext(1)}, scaling: { min_instances: 3, max_instances: 2 } }`,
      ]),
    ).toEqual([
      "sam.yaml:2:11 plugins[0]: set exactly one of path or package",
      'sam.yaml:4:25 agents.a.group: no supervision group "storag" (define it under supervision.groups) (did you mean "storage"?)',
      'sam.yaml:4:47 agents.a.health_check: needs an endpoint (http), a command (exec), a log_line (log), a port (tcp) or type: "heartbeat"',
      'sam.yaml:5:18 agents.b.health_check.command: required for type "exec"',
      "sam.yaml:5:83 agents.b.restart_policy.backoff_seconds: backoff_seconds (60) is above max_backoff_seconds (10)",
      "sam.yaml:7:111 services.s.scaling.max_instances: max_instances (2) is below min_instances (3)",
    ])
  })
})

describe("depends_on's long syntax", () => {
  it("names a missing target and a misspelt condition by their key; decodes to the unit's conditions", async () => {
    expect(
      await check([
        "services:",
        `  db: { deployment: ${ext(1)} }`,
        `  app: { deployment: ${ext(2)}, depends_on: { dbb: { condition: service_started } } }`,
        `  web: { deployment: ${ext(3)}, depends_on: { db: { condition: service_ready } } }`,
      ]),
    ).toEqual([
      'sam.yaml:3:88 services.app.depends_on.dbb: depends on "dbb", which is no agent or service (did you mean "db"?)',
      'sam.yaml:4:100 services.web.depends_on.db.condition: expected "service_healthy" | "service_started" | "service_completed_successfully", found "service_ready"',
    ])
    const dir = await tempDir({
      "sam.yaml": yaml(
        "services:",
        `  job: { deployment: ${ext(1)} }`,
        `  db: { deployment: ${ext(2)} }`,
        `  app: { deployment: ${ext(3)}, depends_on: { job: { condition: service_completed_successfully }, db: {} } }`,
      ),
    })
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml" })
    const app = unitSpecsFromConfig(loaded.config).units.find((u) => u.id === "app")
    expect(app).toMatchObject({ dependsOn: ["job", "db"], dependencyConditions: { job: "completed" } })
    // The job is on restart_policy always (the default): it would never complete.
    expect(loaded.warnings).toContainEqual(
      'services.app.depends_on.job: waits for "job" to complete, but job\'s restart_policy is always (the default): it is started again at every exit, so app never starts; give job restart_policy: on-failure (or never)',
    )
    // db has no readiness check: waiting for it to be ready is waiting for it to start.
    expect(loaded.warnings).toContainEqual(
      'services.app.depends_on.db: waits for "db" to be ready, but db has no readiness check: it counts as ready once it has started; give db a health_check for app to wait until it answers (or say condition: service_started)',
    )
    // Not said for the job (it is waited on to complete), nor for a dependency with a check.
    expect(loaded.warnings.filter((w) => w.includes("no readiness check"))).toHaveLength(1)
  })
})

describe("a log health check", () => {
  it("is inferred from log_line, gates readiness only, and refuses what cannot work or RE2 cannot compile, naming the key", async () => {
    const svc = (check: string) => `{ deployment: ${ext(1)}, health_check: ${check} }`
    expect(
      await check([
        "services:",
        `  a: ${svc("{ type: log }")}`,
        `  b: ${svc("{ endpoint: /health, log_line: ready }")}`,
        `  c: ${svc("{ log_line: 'listening on (' }")}`,
        `  d: ${svc("{ log_line: ready, kind: liveness }")}`,
        `  e: ${svc("{ log_line: '^(?=ready)' }")}`,
        `  f: ${svc("{ type: log, log_line: ready, command: 'true' }")}`,
        `  g: ${svc("{ log_line: '^(a+)+$' }")}`,
        `  h: ${svc("{ log_line: '(\\w+) \\1' }")}`,
        `  i: ${svc("{ log_line: 'x{1000}' }")}`,
      ]),
    ).toEqual([
      'sam.yaml:2:67 services.a.health_check.log_line: required for type "log"',
      'sam.yaml:3:112 services.b.health_check.log_line: only for type "log" (this check is http)',
      "sam.yaml:4:93 services.c.health_check.log_line: not a regular expression (RE2 syntax): missing closing ): `listening on (`",
      "sam.yaml:5:106 services.d.health_check.kind: a log check gates readiness only (a line once seen stays seen)",
      "sam.yaml:6:93 services.e.health_check.log_line: not a regular expression (RE2 syntax): invalid or unsupported Perl syntax: `(?=`; RE2 has no lookahead or lookbehind",
      "sam.yaml:7:120 services.f.health_check.command: not for a log check (it reads only log_line)",
      // Nested repeats are fine (RE2 takes linear time); what RE2 has no syntax for is refused.
      "sam.yaml:9:93 services.h.health_check.log_line: not a regular expression (RE2 syntax): invalid escape sequence: `\\1`; RE2 has no back-references",
      "sam.yaml:10:93 services.i.health_check.log_line: pattern refused: it compiles to 1002 instructions, more than 1000 (a repeat such as {500} counts each time); simplify it",
    ])
    const dir = await tempDir({
      "sam.yaml": yaml("services:", `  ok: ${svc("{ log_line: '^listening on \\d+' }")}`),
    })
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml" })
    expect(loaded.config.services.ok?.health_check).toMatchObject({
      type: "log",
      log_line: "^listening on \\d+",
    })
    // A JavaScript regex literal's slashes are matched as they are: said, not refused.
    const slashed = await loadConfig({
      cwd: await tempDir({ "sam.yaml": yaml("services:", `  s: ${svc("{ log_line: '/ready/i' }")}`) }),
      configPath: "sam.yaml",
    })
    expect(slashed.warnings).toContainEqual(
      'services.s.health_check.log_line: "/ready/i" is matched with its slashes: write the pattern without them (flags cannot be given)',
    )
  })
})

describe("the scaling block", () => {
  const scaling = (rows: Array<string>) =>
    yaml(
      "services:",
      ...rows.map(
        (r, i) =>
          `  s${i}: { deployment: { mode: external, url: 'http://localhost:${i + 1}' }, scaling: ${r} }`,
      ),
    )

  it("bounds every key: counts, a positive target, durations of at most a day, max above min", async () => {
    const error = await failure({
      "sam.yaml": scaling([
        "{ min_instances: -1 }",
        "{ cpu_threshold: 0, target_in_flight: -2 }",
        "{ scale_up_seconds: -1, scale_down_seconds: 100000, cooldown_seconds: x }",
        "{ min_instances: 3, max_instances: 2 }",
        "{ max_instances: 0 }",
      ]),
    })
    expect(lines(error)).toEqual([
      "sam.yaml:2:94 services.s0.scaling.min_instances: expected a value greater than or equal to 0, found -1",
      "sam.yaml:3:94 services.s1.scaling.cpu_threshold: expected a value greater than 0, found 0",
      "sam.yaml:3:115 services.s1.scaling.target_in_flight: expected a value greater than 0, found -2",
      "sam.yaml:4:97 services.s2.scaling.scale_up_seconds: expected a value greater than or equal to 0, found -1",
      "sam.yaml:4:121 services.s2.scaling.scale_down_seconds: expected at most 86400 seconds (1 day), found 100000",
      'sam.yaml:4:147 services.s2.scaling.cooldown_seconds: expected a number, found "x"',
      "sam.yaml:5:112 services.s3.scaling.max_instances: max_instances (2) is below min_instances (3)",
      "sam.yaml:6:94 services.s4.scaling.max_instances: expected a value greater than or equal to 1, found 0",
    ])
  })

  it("fills the defaults: min 1, max = min, up 15 s, down 300 s, cooldown 30 s; min_instances 0 is allowed", async () => {
    const dir = await tempDir({
      "sam.yaml": scaling(["{}", "{ min_instances: 0, max_instances: 2, cpu_threshold: 80 }"]),
    })
    const { config } = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: {} })
    expect(config.services.s0!.scaling).toEqual({
      min_instances: 1,
      scale_up_seconds: 15,
      scale_down_seconds: 300,
      cooldown_seconds: 30,
    })
    expect(config.services.s1!.scaling).toMatchObject({
      min_instances: 0,
      max_instances: 2,
      cpu_threshold: 80,
    })
  })

  it("warns about settings that cannot act: a target with no room, timings with no target, fixed host ports", async () => {
    const dir = await tempDir({
      "sam.yaml": yaml(
        "services:",
        "  a: { deployment: { mode: external, url: 'http://localhost:1' }, scaling: { cpu_threshold: 80 } }",
        "  b: { deployment: { mode: external, url: 'http://localhost:2' }, scaling: { min_instances: 2, max_instances: 2, cpu_threshold: 80 } }",
        "  c: { deployment: { mode: external, url: 'http://localhost:3' }, scaling: { max_instances: 3, cooldown_seconds: 5 } }",
        "  d: { deployment: { mode: container, image: i, ports: ['6333:6333'] }, scaling: { max_instances: 3 } }",
      ),
    })
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: { PATH: "" } })
    expect(loaded.warnings.filter((w) => w.includes(".scaling."))).toEqual([
      "services.a.scaling.cpu_threshold: has no effect: max_instances is not set (it defaults to min_instances, 1), so the autoscaler has no room above 1; raise scaling.max_instances",
      "services.b.scaling.cpu_threshold: has no effect: max_instances is 2, so the autoscaler has no room above 2; raise scaling.max_instances",
      "services.c.scaling.cooldown_seconds: has no effect without scaling.cpu_threshold or scaling.target_in_flight",
      "services.d.scaling.max_instances: a container mapping fixed host ports (6333) runs one instance at most: every instance beyond the first would fail to bind them",
    ])
  })
})

describe("alert rules that can never fire", () => {
  it("warns about a breaker_open rule whose services have no gateway breaker", async () => {
    const ext = (n: number) => `{ mode: external, url: 'http://localhost:${n}' }`
    const dir = await tempDir({
      "sam.yaml": yaml(
        "services:",
        `  off: { deployment: ${ext(1)}, gateway: { enabled: false } }`,
        `  nobreaker: { deployment: ${ext(2)}, gateway: { breaker: { enabled: false } } }`,
        `  api: { deployment: ${ext(3)} }`,
        "monitoring:",
        "  alerts:",
        "    never: { when: breaker_open, units: [off, nobreaker] }",
        "    fine: { when: breaker_open }",
        "    one: { when: breaker_open, units: [api] }",
      ),
    })
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: { PATH: "" } })
    expect(loaded.warnings.filter((w) => w.startsWith("monitoring."))).toEqual([
      "monitoring.alerts.never: when: breaker_open can never fire: off, nobreaker have no gateway breaker (an agent, or gateway.enabled or gateway.breaker.enabled false)",
    ])
  })
})

describe("an agent's health check", () => {
  it("warns that an endpoint is not used: the check is the agent's health() hook over IPC", async () => {
    const dir = await tempDir({
      "sam.yaml": yaml(
        "agents:",
        "  a: { path: ., health_check: { endpoint: /health, interval_seconds: 30 } }",
      ),
    })
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: { PATH: "" } })
    expect(loaded.warnings).toContain(
      "agents.a.health_check.endpoint: not used: an agent has no port, so its check asks the agent's health() hook over IPC (type: heartbeat)",
    )
  })
})

describe("warnings do not fail loading", () => {
  it("warns about a missing agent path, a disabled dependency and a missing container engine", async () => {
    const dir = await tempDir({
      "sam.yaml": yaml(
        "agents:",
        "  a: { path: ./not-there, depends_on: [off] }",
        "services:",
        "  off: { enabled: false, deployment: { mode: process, command: x } }",
        "  box: { deployment: { mode: container, image: i } }",
      ),
    })
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: { PATH: "" } })
    expect(loaded.warnings).toEqual([
      'agents.a.depends_on[0]: depends on "off", which is disabled; the dependency is ignored',
      `agents.a.path: ${join(dir, "not-there")} does not exist (yet)`,
      'services.box: mode "container" needs docker or podman, and neither is on PATH',
    ])
  })
})

describe("a process service's command and cwd, as its start would find them", () => {
  it("warns about a command not found (a path, a name on PATH, a Compose-style shell line) and a missing cwd", async () => {
    const dir = await tempDir({
      "sam.yaml": yaml(
        "services:",
        "  abs: { deployment: { mode: process, command: /nonexistent/bin/foo } }",
        "  name: { deployment: { mode: process, command: nosuchbinary-xyz } }",
        "  line: { deployment: { mode: process, command: 'node web.mjs --port 3000' } }",
        "  where: { deployment: { mode: process, command: /bin/sh, cwd: /nonexistent/dir } }",
        "  own: { deployment: { mode: process, command: sh, env: { PATH: /nonexistent/bin } } }",
        "  fine: { deployment: { mode: process, command: sh } }",
        "  local: { deployment: { mode: process, command: ./run.sh } }",
      ),
      "run.sh": "#!/bin/sh\n",
    })
    const { chmod } = await import("node:fs/promises")
    await chmod(join(dir, "run.sh"), 0o755)
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: { PATH: "/usr/bin:/bin" } })
    expect(loaded.warnings).toEqual([
      "services.abs.deployment.command: /nonexistent/bin/foo does not exist (yet) or is not executable",
      "services.name.deployment.command: nosuchbinary-xyz is not found on PATH, or is not executable there",
      'services.line.deployment.command: "node web.mjs --port 3000" is one program, not a shell line, and there is no such file; did you mean command: node, args: [web.mjs, --port, "3000"]? (SAM starts no shell; for one: command: sh, args: [-c, "node web.mjs --port 3000"])',
      "services.where.deployment.cwd: /nonexistent/dir does not exist (yet) or is not a directory: the service cannot start in it",
      "services.own.deployment.command: sh is not found on the unit's PATH (deployment.env.PATH), or is not executable there",
    ])
  })
})

describe("a stop grace SAM's shutdown would cut short", () => {
  it("warns, naming stop.grace_seconds, runtime.shutdown_timeout_seconds and both values", async () => {
    const process_ = "deployment: { mode: process, command: /bin/sh }"
    const dir = await tempDir({
      "sam.yaml": yaml(
        "runtime: { shutdown_timeout_seconds: 5 }",
        "services:",
        `  slow: { ${process_}, stop: { grace_seconds: 8 } }`,
        `  quick: { ${process_}, stop: { grace_seconds: 2 } }`,
        `  plain: { ${process_} }`,
      ),
    })
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: { PATH: "/usr/bin:/bin" } })
    expect(loaded.warnings).toEqual([
      "services.slow.stop.grace_seconds: 8 is longer than runtime.shutdown_timeout_seconds (5): at SAM's shutdown what is still stopping then is SIGKILLed, so its grace is cut short; raise runtime.shutdown_timeout_seconds or lower the grace",
      "runtime.shutdown_timeout_seconds: 5 is shorter than the default stop.grace_seconds (10) of services.plain: at SAM's shutdown what is still stopping then is SIGKILLed, so their grace is cut short; raise it or set their stop.grace_seconds",
    ])
    const defaults = await tempDir({
      "sam.yaml": yaml(
        "services:",
        `  slow: { ${process_}, stop: { grace_seconds: 45 } }`,
        `  plain: { ${process_} }`,
      ),
    })
    expect((await loadConfig({ cwd: defaults, configPath: "sam.yaml", env: {} })).warnings).toEqual([
      "services.slow.stop.grace_seconds: 45 is longer than runtime.shutdown_timeout_seconds (30, the default): at SAM's shutdown what is still stopping then is SIGKILLed, so its grace is cut short; raise runtime.shutdown_timeout_seconds or lower the grace",
    ])
  })
})

describe("the seed examples and the repo config", () => {
  it.each(["examples/seed-agent.yaml", "examples/seed-service.yaml"])(
    "%s validates as written",
    async (file) => {
      const loaded = await loadConfig({ cwd: repoRoot, configPath: file, env: {}, secrets: "lenient" })
      expect(Object.keys(loaded.config.agents).length + Object.keys(loaded.config.services).length).toBe(1)
    },
  )
})

describe("validateConfigObject", () => {
  it("decodes a plain object and throws ConfigError labelled with the given name", () => {
    expect(validateConfigObject({ api: { port: 1 } }).api.port).toBe(1)
    expect(() => validateConfigObject({ api: { port: "x" } }, "PUT /config")).toThrow(
      'PUT /config api.port: expected a number, found "x"',
    )
  })
})

describe("an agent's limits its runtime cannot enforce", () => {
  it("are warned about, naming the key and the runtime that would enforce them", async () => {
    const dir = await tempDir({
      "sam.yaml": yaml(
        "runtime: { default_agent_runtime: inline }",
        "agents:",
        "  a: { path: ., resources: { max_memory_mb: 100, max_cpu_percent: 50 } }",
        "  w: { path: ., runtime: worker, resources: { max_memory_mb: 100, max_cpu_percent: 50 } }",
        "  p: { path: ., runtime: process, resources: { max_memory_mb: 100, max_cpu_percent: 50 } }",
      ),
    })
    const { warnings } = await loadConfig({ cwd: dir, configPath: "sam.yaml" })
    expect(warnings.filter((w) => w.includes("not enforced"))).toEqual([
      `agents.a.resources.max_memory_mb: not enforced for an inline agent (it runs in SAM's own process); use runtime "process" or "sandbox" for it to be enforced`,
      `agents.a.resources.max_cpu_percent: not enforced for an inline agent (it runs in SAM's own process); use runtime "process" or "sandbox" for it to be enforced`,
      `agents.w.resources.max_cpu_percent: not enforced for a worker agent (its thread shares SAM's CPU); use runtime "process" or "sandbox" for it to be enforced`,
    ])
  })

  it("an inline agent's heartbeat TTL is warned about; its interval paces health() and is not", async () => {
    const dir = await tempDir({
      "sam.yaml": yaml(
        "agents:",
        "  i: { path: ., runtime: inline, heartbeat: { interval_seconds: 1, ttl_seconds: 2 } }",
        "  j: { path: ., runtime: inline, heartbeat: { interval_seconds: 1 } }",
        "  w: { path: ., runtime: worker, heartbeat: { interval_seconds: 1, ttl_seconds: 2 } }",
      ),
    })
    const { warnings } = await loadConfig({ cwd: dir, configPath: "sam.yaml" })
    expect(warnings.filter((w) => w.includes("heartbeat"))).toEqual([
      `agents.i.heartbeat.ttl_seconds: not enforced for an inline agent (it runs on SAM's own event loop, so it sends no heartbeat; interval_seconds only paces its health() hook); use runtime "process", "sandbox" or "worker" for a stuck agent to be killed`,
    ])
  })
})

describe("what Compose users write", () => {
  it("top-level x-* keys hold YAML anchors that units merge with <<, and SAM reads nothing in them", async () => {
    const dir = await tempDir({
      "sam.yaml": yaml(
        "x-common: &common",
        "  restart_policy: on-failure",
        "  health_check: { endpoint: /health }",
        "services:",
        "  web:",
        "    <<: *common",
        "    deployment: { mode: process, command: node }",
      ),
    })
    const { config } = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: {} })
    expect(Object.keys(config)).not.toContain("x-common")
    expect(config.services.web?.health_check).toMatchObject({ endpoint: "/health" })
    expect(config.services.web?.restart_policy).toMatchObject({ type: "transient" })
  })

  it("a merge of something that is not a mapping is a problem at its << key, not a crash", async () => {
    expect(
      await check([
        "x-port: &port 5",
        "services:",
        "  c:",
        "    <<: *port",
        "    deployment: { mode: process, command: node }",
      ]),
    ).toEqual([
      "sam.yaml:4:5 Merge sources must be maps or map aliases (`<<: *anchor` merges the mapping an anchor names, or a list of them)",
    ])
  })

  it("a command of only white space is refused as an empty one, and SIGFOO is no typo of SIGIOT", async () => {
    expect(
      await check([
        "services:",
        "  web:",
        '    deployment: { mode: process, command: "  " }',
        "    stop: { signal: SIGFOO }",
        "  api:",
        "    deployment: { mode: process, command: node }",
        "    stop: { signal: SIGTRM }",
      ]),
    ).toEqual([
      'sam.yaml:3:43 services.web.deployment.command: expected a non-empty string, found "  "',
      'sam.yaml:4:21 services.web.stop.signal: expected a signal name such as "SIGTERM" (os.constants.signals), found "SIGFOO"',
      'sam.yaml:7:21 services.api.stop.signal: expected a signal name such as "SIGTERM" (os.constants.signals), found "SIGTRM" (did you mean "SIGTERM"?)',
    ])
  })
})

describe("API tokens a config gives", () => {
  it("refuses white space or one repeated character, and one value under two names (which role would it take?)", () => {
    let error: unknown
    try {
      validateConfigObject({
        security: {
          api_tokens: {
            blank: { token: " ".repeat(20), role: "admin" },
            same: { token: "a".repeat(20), role: "admin" },
            ops: { token: "a-long-enough-token-0001", role: "admin" },
            watch: { token: "a-long-enough-token-0001", role: "viewer" },
            padded: { token: "  another-long-enough-token  ", role: "viewer" },
          },
        },
      })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect(lines(error as ConfigError)).toEqual([
      '<config> security.api_tokens.blank.token: the token of "blank" is only white space: generate one with `openssl rand -hex 32`',
      '<config> security.api_tokens.same.token: the token of "same" is one character repeated: generate one with `openssl rand -hex 32`',
      '<config> security.api_tokens.watch.token: "watch" has the same token as "ops": a request with it could be either (and take either\'s role); give each its own',
      '<config> security.api_tokens.padded.token: the token of "padded" has white space at its start or end (a newline from a file?): remove it',
    ])
  })
})
