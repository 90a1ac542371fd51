// One agent or service: state, readiness, restarts, uptime, pid, instances, CPU and memory
// sparklines, capabilities, the reason of its last transition and what holds until an operator
// acts (a halted rollout, a paused watch), with the lifecycle actions an
// operator may take (none for viewers): those the state cannot take are disabled, saying why, and
// stop and restart ask for a second click. Carries the browser tests' hooks: data-unit,
// data-state, data-restarts, data-pid, and data-action on each control.
import { useEffect, useState } from "preact/hooks"
import { bytes, duration, percent, relative } from "../format.ts"
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

const uptimeOf = (unit: Unit, now: number): number =>
  unit.status === "running" || unit.status === "suspended"
    ? unit.uptime + Math.max(0, now - unit.readAt) / 1000
    : unit.uptime

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
  const tone = toneOf(unit.status, unit.ready)
  const suggested = likely(unit)
  const capabilities = unit.kind === "agent" ? unit.capabilities : []
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
        <span class={`badge tone-${tone}`}>
          {stateLabel(unit.status, unit.ready, unit.readiness_checked)}
        </span>
        <BreakerBadge unit={unit} />
      </header>
      <dl class="facts">
        <div>
          <dt>restarts</dt>
          <dd class={unit.restarts > 0 ? "warn-text" : ""}>{unit.restarts}</dd>
        </div>
        <div>
          <dt>uptime</dt>
          <dd>
            {unit.status === "running" || unit.status === "suspended" ? duration(uptimeOf(unit, now)) : "—"}
          </dd>
        </div>
        <div>
          <dt>pid</dt>
          <dd>{unit.pid ?? "—"}</dd>
        </div>
        <div>
          <dt>instances</dt>
          <dd>{unit.instances}</dd>
        </div>
      </dl>
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
      </div>
      {capabilities && capabilities.length > 0 && (
        <ul class="capabilities" aria-label="capabilities">
          {capabilities.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
      )}
      <p class="reason" title={unit.reason}>
        {unit.reason || "\u00a0"}
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
