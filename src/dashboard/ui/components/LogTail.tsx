// The live log of the selected unit: its last lines, then each new one as SAM reads it
// (GET /api/<kind>/:id/logs?follow=true, resumed with Last-Event-ID after a drop), stderr and
// SAM's own notes marked. Follows the bottom unless the reader scrolled up.
import { useEffect, useRef, useState } from "preact/hooks"
import { unitPath } from "../api.ts"
import { clock } from "../format.ts"
import { logText } from "../logText.ts"
import { openStream } from "../sse.ts"
import type { LogLine, Unit } from "../types.ts"

const kept = 500

interface Props {
  readonly unit: Unit | undefined
  readonly units: ReadonlyArray<Unit>
  readonly onSelect: (id: string) => void
}

export const LogTail = ({ unit, units, onSelect }: Props) => {
  const [lines, setLines] = useState<ReadonlyArray<LogLine>>([])
  const [status, setStatus] = useState("")
  const box = useRef<HTMLDivElement>(null)
  const stick = useRef(true)
  const id = unit?.id
  const kind = unit?.kind
  useEffect(() => {
    setLines([])
    if (id === undefined || kind === undefined) return
    let batch: LogLine[] = []
    let frame = 0
    const flush = () => {
      frame = 0
      const add = batch
      batch = []
      setLines((before) => [...before, ...add].slice(-kept))
    }
    const stream = openStream({
      url: `${unitPath(kind, id)}/logs?follow=true&lines=200`,
      onMessage: (event, data) => {
        // Lines skipped while the page fell behind a unit writing flat out: said, not hidden.
        if (event === "gap") setStatus(String((data as { detail?: unknown }).detail ?? "lines were skipped"))
        if (event !== "line") return
        batch.push(data as LogLine)
        // One render per animation frame, however fast the unit writes.
        if (frame === 0) frame = requestAnimationFrame(flush)
      },
      onState: (state, detail) => setStatus(state === "open" ? "" : `${state}${detail ? `: ${detail}` : ""}`),
    })
    return () => {
      stream.close()
      if (frame !== 0) cancelAnimationFrame(frame)
    }
  }, [id, kind])
  useEffect(() => {
    const el = box.current
    if (el && stick.current) el.scrollTop = el.scrollHeight
  }, [lines])
  return (
    <section class="panel logs" aria-label="log tail">
      <header class="panel-head">
        <h2>Log</h2>
        <select
          aria-label="unit whose log is shown"
          value={id ?? ""}
          onChange={(e) => onSelect((e.target as HTMLSelectElement).value)}
        >
          {units.map((u) => (
            <option key={u.id} value={u.id}>
              {u.id}
            </option>
          ))}
        </select>
        <span class="muted">{status}</span>
      </header>
      <div
        class="log-lines"
        role="log"
        aria-label={id === undefined ? "log" : `log of ${id}`}
        ref={box}
        data-log={id ?? ""}
        onScroll={(e) => {
          const el = e.currentTarget
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24
        }}
      >
        {lines.length === 0 && <p class="empty">No output yet.</p>}
        {lines.map((l) => (
          <div key={l.seq} class={`log-line stream-${l.stream}`} data-seq={l.seq}>
            <time>{clock(l.time)}</time>
            {l.instance > 0 && <span class="instance">#{l.instance}</span>}
            <span class="text">{logText(l.line)}</span>
          </div>
        ))}
      </div>
    </section>
  )
}
