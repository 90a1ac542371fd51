// Recent transitions and supervisor decisions, newest first, each coloured by where it went.
import { clock } from "../format.ts"
import { toneOf } from "../states.ts"
import type { TimelineEntry } from "../types.ts"

export const Timeline = ({ entries }: { readonly entries: ReadonlyArray<TimelineEntry> }) => (
  <section class="panel timeline" aria-label="timeline">
    <header class="panel-head">
      <h2>Timeline</h2>
      <span class="muted">{entries.length} events</span>
    </header>
    {entries.length === 0 && <p class="empty">Nothing has happened yet.</p>}
    <ol class="timeline-list">
      {entries.map((e) => (
        <li
          key={`${e.id}:${e.at}`}
          class={`tl tl-${e.type.replace(/\W/g, "-")}${e.to ? ` tone-${toneOf(e.to)}` : ""}`}
          data-event={e.type}
        >
          <time>{clock(e.at)}</time>
          <span class="dot" aria-hidden="true" />
          <span class="text">{e.text}</span>
        </li>
      ))}
    </ol>
  </section>
)
