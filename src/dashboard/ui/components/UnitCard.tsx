// One agent or service: state, readiness, restarts, uptime, pid, instances, CPU and memory
// sparklines (and gateway requests per second for a service the gateway routes, capability
// invocations per second for an agent that provides any), capabilities,
// the reason of its last transition and what holds until an operator acts (a halted rollout, a
// paused watch), with the lifecycle actions an operator may take (none for viewers): those the
// state cannot take are disabled, saying why, and stop and restart ask for a second click. A unit
// running several instances lists each (`web#0`, `web#1`) with its own state, pid, port, uptime
// and restarts, and reads `degraded: 1 of 2 in backoff` while some serve and some are down, as
// `sam ps` does. Carries the browser tests' hooks: data-unit, data-state, data-restarts,
// data-pid, data-degraded, data-instance per instance row, and data-action on each control.
import { useEffect, useState } from "preact/hooks"
import { type Degraded, degradedOf, degradedText } from "../../../api/degraded.ts"
import { instanceLabel } from "../../../api/instanceLabel.ts"
import { bytes, duration, percent, perSecond, relative } from "../format.ts"
import { commandRefusal, stateLabel, toneOf } from "../states.ts"
import type { Series } from "../store.ts"
import type { LifecycleCommand, Unit } from "../types.ts"
import { useDashboard, useStore } from "../useStore.ts"
import { Sparkline } from "./Sparkline.tsx"

const commands: ReadonlyArray<LifecycleCommand> = ["start", "stop", "restart", "suspend", "resume"]

/** Commands that take a unit down: the first click asks, a second within this long runs it. */
const confirmed: ReadonlySet<LifecycleCommand> = new Set(["stop", "restart"])
const confirmWindowMs = 5_000

/** The commands that make sense in `state` (the others stay available, quieter). */
const likely = (unit: Unit): ReadonlySet<LifecycleCommand> => {
  switch (unit.status) {
    case "stopped":
    case "crashed":
    case "error":
    case "backoff":
      return new Set(["start"])
    case "suspended":
      return new Set(["resume", "stop"])
    case "running":
      return new Set(["restart", "stop", ...(unit.kind === "agent" ? (["suspend"] as const) : [])])
    default:
      return new Set(["stop"])
  }
}

/** Seconds up of a unit or an instance of it now, counted on from when its view was read. */
const uptimeOf = (
  figures: { readonly status: string; readonly uptime: number },
  readAt: number,
  now: number,
): number =>
  figures.status === "running" || figures.status === "suspended"
    ? figures.uptime + Math.max(0, now - readAt) / 1000
    : figures.uptime

const shownUptime = (
  figures: { readonly status: string; readonly uptime: number },
  readAt: number,
  now: number,
) =>
  figures.status === "running" || figures.status === "suspended"
    ? duration(uptimeOf(figures, readAt, now))
    : "—"

type Instance = Unit["per_instance"][number]

/**
 * Each instance of a unit running several, one row each as `sam ps` lists them: its own state,
 * pid, port, uptime and restarts (the unit's pid is instance 0's, its uptime the longest's: on
 * the card each figure is one instance's, never a mix). Its reason is the row's title.
 */
const InstanceRows = ({ unit, now }: { readonly unit: Unit; readonly now: number }) => (
  <table class="instances" aria-label={`instances of ${unit.id}`}>
    <thead>
      <tr>
        <th scope="col">instance</th>
        <th scope="col">state</th>
        <th scope="col">pid</th>
        <th scope="col">port</th>
        <th scope="col">uptime</th>
        <th scope="col">restarts</th>
      </tr>
    </thead>
    <tbody>
      {unit.per_instance.map((i: Instance) => (
        <tr
          key={i.instance}
          data-instance={String(i.instance)}
          data-state={i.status}
          data-ready={String(i.ready)}
          data-pid={i.pid === null ? "" : String(i.pid)}
          title={i.reason || undefined}
        >
          <th scope="row">{instanceLabel(unit.id, i.instance, true)}</th>
          <td>
            <span class={`dot tone-${toneOf(i.status, i.ready)}`} aria-hidden="true" />{" "}
            {stateLabel(i.status, i.ready, unit.readiness_checked)}
            {i.next_attempt_at && <span class="next"> · {relative(i.next_attempt_at, now)}</span>}
          </td>
          <td>{i.pid ?? "—"}</td>
          <td>{i.port ?? "—"}</td>
          <td>{shownUptime(i, unit.readAt, now)}</td>
          <td class={i.restarts > 0 ? "warn-text" : ""}>{i.restarts}</td>
        </tr>
      ))}
    </tbody>
  </table>
)

/** The state badge: the lifecycle state, or for a unit that serves while some instances are down, how many. */
const stateText = (unit: Unit, degraded: Degraded | undefined): string =>
  degraded === undefined
    ? stateLabel(unit.status, unit.ready, unit.readiness_checked)
    : `degraded: ${degradedText(degraded)}`

/**
 * The reason line: for a unit of several, named by the instance it is about (the API's `reason`
 * is its first instance's that does not serve).
 */
const reasonText = (unit: Unit): string => {
  if (unit.per_instance.length < 2 || unit.reason === "") return unit.reason
  const about = unit.per_instance.find(
    (i) => !(i.status === "running" && i.ready) && i.reason === unit.reason,
  )
  return about === undefined ? unit.reason : `${instanceLabel(unit.id, about.instance, true)}: ${unit.reason}`
}

/** A service's gateway breaker when it is not closed: the gateway answers 503 for it meanwhile. */
const BreakerBadge = ({ unit }: { readonly unit: Unit }) => {
  const breaker = unit.kind === "service" ? unit.gateway?.breaker : undefined
  if (!breaker || breaker.state === "closed") return null
  const open = breaker.state === "open"
  return (
    <span
      class={`breaker tone-${open ? "bad" : "warn"}`}
      data-breaker={breaker.state}
      title={`${breaker.reason ?? ""}${open ? "; the gateway answers its requests with 503" : "; a few probe calls pass"}`}
    >
      {open ? "breaker open" : "breaker half-open"}
    </span>
  )
}

interface Props {
  readonly unit: Unit
  readonly usage: Series | undefined
  readonly canAct: boolean
  readonly canScale: boolean
  readonly selected: boolean
  readonly now: number
}

export const UnitCard = ({ unit, usage, canAct, canScale, selected, now }: Props) => {
  const { live, store } = useDashboard()
  const pending = useStore((s) => s.pending)
  const degraded = degradedOf(unit)
  const several = unit.per_instance.length > 1
  // Degraded is amber whatever its down instances' state: it still serves.
  const tone = degraded === undefined ? toneOf(unit.status, unit.ready) : "warn"
  const capabilities = unit.kind === "agent" ? unit.capabilities : []
  // The history and the samples say both as `requests`; a service's are its gateway requests.
  const counted =
    unit.kind === "service"
      ? unit.gateway !== null && ({ tone: "requests", short: "req", what: "gateway requests" } as const)
      : capabilities.length > 0 &&
        ({ tone: "invocations", short: "calls", what: "capability invocations" } as const)
  const rate = usage?.requests.at(-1)?.[1]
  const suggested = likely(unit)
  const [instances, setInstances] = useState(unit.instances)
  const [asking, setAsking] = useState<LifecycleCommand | undefined>(undefined)
  useEffect(() => {
    if (asking === undefined) return
    const timer = setTimeout(() => setAsking(undefined), confirmWindowMs)
    return () => clearTimeout(timer)
  }, [asking])
  const act = (command: LifecycleCommand) => {
    if (confirmed.has(command) && asking !== command) {
      setAsking(command)
      return
    }
    setAsking(undefined)
    void live.command(unit, command)
  }
  const nameId = `unit-name-${unit.id}`
  return (
    <article
      aria-labelledby={nameId}
      class={`unit tone-${tone}${selected ? " selected" : ""}`}
      data-unit={unit.id}
      data-kind={unit.kind}
      data-state={unit.status}
      data-ready={String(unit.ready)}
      data-degraded={String(degraded !== undefined)}
      data-restarts={String(unit.restarts)}
      data-instances={String(unit.instances)}
      data-pid={unit.pid === null ? "" : String(unit.pid)}
    >
      <header class="unit-head">
        <h3 class="unit-title" id={nameId}>
          <button
            type="button"
            class="unit-name"
            title="Show this unit's log"
            aria-pressed={selected}
            onClick={() => store.update((s) => ({ ...s, selected: unit.id }))}
          >
            <span class={`dot tone-${tone}`} aria-hidden="true" />
            {unit.id}
          </button>
        </h3>
        <span class="kind">{unit.kind}</span>
        <span class={`badge tone-${tone}`}>{stateText(unit, degraded)}</span>
        <BreakerBadge unit={unit} />
      </header>
      <dl class="facts">
        <div>
          <dt>restarts</dt>
          <dd class={unit.restarts > 0 ? "warn-text" : ""}>{unit.restarts}</dd>
        </div>
        {/* Several instances: each one's uptime and pid are on its row below, not one of them here. */}
        {!several && (
          <div>
            <dt>uptime</dt>
            <dd>{shownUptime(unit, unit.readAt, now)}</dd>
          </div>
        )}
        {!several && (
          <div>
            <dt>pid</dt>
            <dd>{unit.pid ?? "—"}</dd>
          </div>
        )}
        <div>
          <dt>instances</dt>
          <dd>{unit.instances}</dd>
        </div>
        {several && (
          <div>
            <dt>ready</dt>
            <dd>
              {unit.per_instance.filter((i) => i.ready).length} of {unit.per_instance.length}
            </dd>
          </div>
        )}
      </dl>
      {several && <InstanceRows unit={unit} now={now} />}
      <div class="sparks">
        <div class="spark-box">
          <span class="spark-label">
            cpu <strong>{percent(unit.cpu_percent)}</strong>
          </span>
          <Sparkline points={usage?.cpu ?? []} floor={100} label={`CPU of ${unit.id}`} tone="cpu" />
        </div>
        <div class="spark-box">
          <span class="spark-label">
            mem <strong>{bytes(unit.memory_bytes)}</strong>
          </span>
          <Sparkline points={usage?.memory ?? []} label={`memory of ${unit.id}`} tone="memory" />
        </div>
        {counted && (
          <div class="spark-box">
            <span class="spark-label">
              {counted.short} <strong data-requests-now>{perSecond(rate)}</strong>
            </span>
            <Sparkline
              points={usage?.requests ?? []}
              floor={1}
              label={`${counted.what} per second of ${unit.id}`}
              tone={counted.tone}
            />
          </div>
        )}
      </div>
      {capabilities && capabilities.length > 0 && (
        <ul class="capabilities" aria-label="capabilities">
          {capabilities.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
      )}
      <p class="reason" title={unit.reason}>
        {reasonText(unit) || "\u00a0"}
        {unit.next_attempt_at && (
          <span class="next"> · next attempt {relative(unit.next_attempt_at, now)}</span>
        )}
      </p>
      {/* What holds until an operator acts: a halted rollout, a paused watch (as under `sam ps`). */}
      {unit.rollout_halted && (
        <p class="note warn-text" data-note="rollout_halted">
          {unit.rollout_halted}
        </p>
      )}
      {unit.watch_paused && (
        <p class="note warn-text" data-note="watch_paused">
          {unit.watch_paused}
        </p>
      )}
      {unit.scaled && (
        <p class="note" data-note="scaled">
          {unit.scaled}
        </p>
      )}
      {canAct && (
        <div class="actions">
          {commands.map((command) => {
            const refusal = commandRefusal(unit.status, command)
            const ask = asking === command
            return (
              <button
                type="button"
                key={command}
                data-action={command}
                data-confirm={ask ? "" : undefined}
                class={`${suggested.has(command) ? "act" : "act quiet"}${ask ? " confirm" : ""}`}
                aria-label={`${ask ? "confirm " : ""}${command} ${unit.id}`}
                title={refusal === undefined ? undefined : `cannot ${command} ${unit.id}: ${refusal}`}
                disabled={refusal !== undefined || pending.has(`${unit.id}:${command}`)}
                onClick={() => act(command)}
              >
                {ask ? `confirm ${command}?` : command}
              </button>
            )
          })}
          {/* Only where there is something to choose: a service that may run more than one. */}
          {canScale && unit.kind === "service" && unit.max_instances > 1 && (
            <form
              class="scale"
              onSubmit={(e) => {
                e.preventDefault()
                void live.scale(unit, instances)
              }}
            >
              <input
                type="number"
                min={0}
                max={unit.max_instances}
                value={instances}
                aria-label={`instances of ${unit.id}`}
                onInput={(e) => setInstances(Number((e.target as HTMLInputElement).value))}
              />
              <button type="submit" class="act quiet" data-action="scale" aria-label={`scale ${unit.id}`}>
                scale
              </button>
            </form>
          )}
        </div>
      )}
    </article>
  )
}
