// Firing alerts, as a strip above everything else (nothing when none fire).
import { clock } from "../format.ts"
import type { Alert } from "../types.ts"

export const Alerts = ({ alerts }: { readonly alerts: ReadonlyArray<Alert> }) =>
  alerts.length === 0 ? null : (
    <section class="alerts" aria-label="firing alerts" role="alert">
      {alerts.map((a) => (
        <div
          key={a.key}
          class={`alert severity-${a.severity ?? "warning"}`}
          data-alert={a.name}
          data-alert-unit={a.unit ?? ""}
        >
          <strong>{a.name}</strong>
          {a.unit && <span class="muted"> on {a.unit}</span>}
          {a.detail && <span> — {a.detail}</span>}
          {a.since && <time> since {clock(a.since)}</time>}
        </div>
      ))}
    </section>
  )
