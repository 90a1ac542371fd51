// Crash reports, newest first: when, which instance, how it failed, and its last lines of output
// (the newest few shown at once, the others on a click); a unit's older reports are one line each.
// A report of a unit SAM no longer runs (removed from the config since) says so: `(removed)`.
import { useState } from "preact/hooks"
import { instanceLabel } from "../../../api/instanceLabel.ts"
import { clock, duration } from "../format.ts"
import { severalOf } from "../store.ts"
import type { Crash, CrashDetail } from "../types.ts"
import { useDashboard, useStore } from "../useStore.ts"

interface Props {
  readonly crashes: ReadonlyArray<Crash>
  readonly details: ReadonlyMap<number, CrashDetail>
}

const shownLines = 8

/** A report's one-line head: unit (#instance), how it ended, when, after how long; bold when it leads. */
const CrashHead = ({ crash, strong = false }: { readonly crash: Crash; readonly strong?: boolean }) => {
  const units = useStore((s) => s.units)
  const several = severalOf(units)
  const Name = strong ? "strong" : "span"
  return (
    <div class="crash-head">
      <Name>{instanceLabel(crash.unit, crash.instance, several(crash.unit))}</Name>
      {removed(units, crash) && <span class="muted"> (removed)</span>}
      <span class="badge tone-bad">
        {crash.signal ?? (crash.exit_code === null ? crash.failure : `exit ${crash.exit_code}`)}
      </span>
      <time>{clock(crash.time)}</time>
      <span class="muted">after {duration(crash.uptime_ms / 1000)}</span>
    </div>
  )
}

/** Whether `crash` is of a unit SAM does not run now (known once the units are). */
const removed = (units: ReadonlyMap<string, unknown>, crash: Crash): boolean =>
  units.size > 0 && !units.has(crash.unit)

export const Crashes = ({ crashes, details }: Props) => {
  const { live } = useDashboard()
  const units = useStore((s) => s.units)
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set())
  return (
    <section class="panel crashes" aria-label="crash reports">
      <header class="panel-head">
        <h2>Crashes</h2>
        <span class="muted">{crashes.length === 0 ? "none" : `${crashes.length} recent`}</span>
      </header>
      {crashes.length === 0 && <p class="empty">No crash reports.</p>}
      <ol class="crash-list">
        {crashes.map((crash, index) => {
          // A crash loop should not fill the panel: a unit's older reports are one line each.
          const repeat = crashes.slice(0, index).some((c) => c.unit === crash.unit)
          if (repeat)
            return (
              <li
                key={crash.id}
                class="crash crash-repeat"
                data-crash={crash.id}
                data-crash-unit={crash.unit}
                data-removed={removed(units, crash) ? "" : undefined}
              >
                <CrashHead crash={crash} />
              </li>
            )
          const detail = details.get(crash.id)
          const expanded = open.has(crash.id)
          const lines = detail?.last_lines ?? []
          return (
            <li
              key={crash.id}
              class="crash"
              data-crash={crash.id}
              data-crash-unit={crash.unit}
              data-removed={removed(units, crash) ? "" : undefined}
            >
              <CrashHead crash={crash} strong />
              <p class="reason">{crash.reason}</p>
              {detail ? (
                lines.length > 0 && (
                  <pre class="crash-lines" data-crash-lines={crash.id}>
                    {(expanded ? lines : lines.slice(-shownLines)).map((l) => (
                      <span key={`${l.time}${l.line}`} class={`stream-${l.stream}`}>
                        {l.line}
                        {"\n"}
                      </span>
                    ))}
                  </pre>
                )
              ) : (
                <button type="button" class="link" onClick={() => live.readCrash(crash.id)}>
                  show last lines
                </button>
              )}
              {detail && lines.length > shownLines && (
                <button
                  type="button"
                  class="link"
                  onClick={() =>
                    setOpen((o) => {
                      const next = new Set(o)
                      if (expanded) next.delete(crash.id)
                      else next.add(crash.id)
                      return next
                    })
                  }
                >
                  {expanded ? "fewer lines" : `all ${lines.length} lines`}
                </button>
              )}
            </li>
          )
        })}
      </ol>
    </section>
  )
}
