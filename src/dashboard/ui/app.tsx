// The dashboard page: a header (SAM's health at a glance, the connection, who is signed in),
// firing alerts, the dependency graph, a card per unit, then the log tail, crash reports and the
// timeline. Everything comes from the store, which live.ts keeps current.
import { Alerts } from "./components/Alerts.tsx"
import { Crashes } from "./components/Crashes.tsx"
import { DependencyGraph } from "./components/DependencyGraph.tsx"
import { LogTail } from "./components/LogTail.tsx"
import { Timeline } from "./components/Timeline.tsx"
import { UnitCard } from "./components/UnitCard.tsx"
import { headerCounts } from "./states.ts"
import type { State } from "./store.ts"
import type { Unit } from "./types.ts"
import { useDashboard, useNow, useStore } from "./useStore.ts"

const connectionText: Record<State["connection"], string> = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  "signed-out": "signed out",
}

/** The header's counts, each `data-count` naming what it counts (HeaderCounts). */
const Summary = ({ units }: { readonly units: ReadonlyArray<Unit> }) => {
  const counts = headerCounts(units)
  const item = (key: keyof typeof counts, tone: string, label: string, always = false) =>
    (always || counts[key] > 0) && (
      <li class={`tone-${tone}`} data-count={key}>
        <strong>{counts[key]}</strong> {label}
      </li>
    )
  return (
    <ul class="summary" aria-label="units by state">
      {item("ready", "ok", "ready", true)}
      {item("running", "ok", "running (no readiness check)")}
      {item("degraded", "warn", "degraded")}
      {item("settling", "warn", "settling")}
      {item("failing", "bad", "failing")}
      {item("stopped", "idle", "stopped")}
    </ul>
  )
}

const Notices = () => {
  const { store } = useDashboard()
  const notices = useStore((s) => s.notices)
  if (notices.length === 0) return null
  return (
    <div class="notices" aria-live="polite">
      {notices.map((n) => (
        <p key={n.id} class={`notice notice-${n.kind}`} data-notice={n.kind} data-notice-unit={n.unit}>
          {n.text}
          <button
            type="button"
            class="link"
            aria-label="dismiss"
            onClick={() => store.update((s) => ({ ...s, notices: s.notices.filter((x) => x.id !== n.id) }))}
          >
            ×
          </button>
        </p>
      ))}
    </div>
  )
}

export const App = () => {
  const { store, live } = useDashboard()
  const state = useStore((s) => s)
  const now = useNow()
  const units = [...state.units.values()]
  const canAct = state.session !== undefined && state.session.role !== "viewer"
  const selected = state.selected === undefined ? undefined : state.units.get(state.selected)
  const select = (id: string) => store.update((s) => ({ ...s, selected: id }))
  return (
    <div class="page" data-connection={state.connection} data-role={state.session?.role ?? ""}>
      <header class="top">
        <h1>
          <span class="logo" aria-hidden="true">
            ◆
          </span>{" "}
          SAM
        </h1>
        <Summary units={units} />
        <span
          class={`connection connection-${state.connection}`}
          title={state.connectionDetail}
          role="status"
          aria-live="polite"
        >
          <span class="dot" aria-hidden="true" />
          {connectionText[state.connection]}
        </span>
        {state.session && (
          <span class="who">
            {state.session.name} <span class="muted">({state.session.role})</span>{" "}
            <button type="button" class="link" data-sign-out onClick={() => void live.signOut()}>
              sign out
            </button>
          </span>
        )}
      </header>
      {state.connection === "signed-out" && (
        <p class="banner banner-bad" role="alert">
          {state.connectionDetail}. <a href="/">Sign in again</a> with the link <code>sam dashboard</code>{" "}
          prints.
        </p>
      )}
      {state.connection === "reconnecting" && (
        <p class="banner" role="status">
          Lost SAM ({state.connectionDetail}); reconnecting. What is shown may be out of date.
        </p>
      )}
      <Alerts alerts={state.alerts} />
      <Notices />
      <main class="grid">
        <section class="panel graph-panel" aria-label="dependency graph">
          <header class="panel-head">
            <h2>Dependencies</h2>
            <span class="muted">{units.length} units</span>
          </header>
          <DependencyGraph units={units} dependencies={state.dependencies} selected={state.selected} />
        </section>
        <section class="units" aria-label="units">
          {units.map((u) => (
            <UnitCard
              key={u.id}
              unit={u}
              usage={state.usage.get(u.id)}
              canAct={canAct}
              canScale={state.features.scale}
              selected={u.id === state.selected}
              now={now}
            />
          ))}
        </section>
        <LogTail unit={selected} units={units} onSelect={select} />
        <Crashes crashes={state.crashes} details={state.crashDetails} />
        <Timeline entries={state.timeline} />
      </main>
    </div>
  )
}
