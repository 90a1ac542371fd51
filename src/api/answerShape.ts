// What the client reads of the control API's answers, checked before anything reads it: a server
// on SAM's address that answers JSON of another shape (another program, a SAM of another version)
// is then named as such, instead of a TypeError deep in a table. The client loads no Effect
// (controlClient.ts), so these are plain checks of the fields the CLI reads, not the API's schemas.

/** Where `value` (at `at`, as `services[0].id`) differs from what is expected; undefined when it fits. */
export type Check = (value: unknown, at: string) => string | undefined

const kindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`

/** `services[0].id is a number, not a string`; `services is missing`. */
const misfit = (at: string, value: unknown, expected: string): string =>
  value === undefined ? `${at} is missing` : `${at} is ${kindOf(value)}, not ${expected}`

const typed =
  (type: "string" | "number" | "boolean"): Check =>
  (value, at) =>
    typeof value === type ? undefined : misfit(at, value, `a ${type}`)

const string = typed("string")
const number = typed("number")
const boolean = typed("boolean")

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const nullOr =
  (check: Check): Check =>
  (value, at) =>
    value === null ? undefined : check(value, at)

/** An object with (at least) these fields. */
const struct =
  (fields: Readonly<Record<string, Check>>): Check =>
  (value, at) => {
    if (!isRecord(value)) return misfit(at || "the answer", value, "an object")
    for (const [name, check] of Object.entries(fields)) {
      const found = check(value[name], at === "" ? name : `${at}.${name}`)
      if (found !== undefined) return found
    }
    return undefined
  }

const array =
  (item: Check): Check =>
  (value, at) => {
    if (!Array.isArray(value)) return misfit(at, value, "an array")
    for (const [index, each] of value.entries()) {
      const found = item(each, `${at}[${index}]`)
      if (found !== undefined) return found
    }
    return undefined
  }

/** Any JSON object: what every endpoint of the API answers. */
export const anObject: Check = struct({})

const instance = struct({
  instance: number,
  status: string,
  ready: boolean,
  pid: nullOr(number),
  port: nullOr(number),
  restarts: number,
  uptime: number,
  cpu_percent: nullOr(number),
  memory_bytes: nullOr(number),
  reason: string,
  next_attempt_at: nullOr(string),
})

/** The fields of an agent or service that `sam ps` reads (unitTable.ts). */
const unitFields = {
  id: string,
  status: string,
  ready: boolean,
  runtime: string,
  completed: boolean,
  instances: number,
  restarts: number,
  pid: nullOr(number),
  uptime: number,
  cpu_percent: nullOr(number),
  memory_bytes: nullOr(number),
  reason: string,
  next_attempt_at: nullOr(string),
  rollout_halted: nullOr(string),
  watch_paused: nullOr(string),
  scaled: nullOr(string),
  degraded: nullOr(struct({ down: number, of: number, state: string })),
  per_instance: array(instance),
}

const counts = struct({ total: number, running: number, error: number, other: number })

/** By endpoint (`GET /api/services`): the answers `sam ps` and `sam status` read. */
export const answerChecks: Readonly<Record<string, Check>> = {
  "GET /api/services": struct({
    services: array(
      struct({
        ...unitFields,
        gateway: nullOr(
          struct({
            breaker: nullOr(
              struct({ state: string, since: string, reason: nullOr(string), until: nullOr(string) }),
            ),
          }),
        ),
      }),
    ),
  }),
  "GET /api/agents": struct({ agents: array(struct(unitFields)), total: number }),
  "GET /api/status": struct({
    version: string,
    health: string,
    uptime: number,
    services: counts,
    agents: counts,
    resources: struct({
      memory: struct({ total_bytes: number, free_bytes: number, sam_rss_bytes: number }),
      cpu: struct({ cores: number, load_average: array(number) }),
      disk: struct({ path: string, free_bytes: nullOr(number) }),
    }),
  }),
}
