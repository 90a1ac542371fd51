// How the dashboard writes numbers and times: short, fixed-width where it can be, in the units
// `sam ps` uses (seconds, MiB), so the page and the CLI read alike.

/** 3s, 4m 05s, 2h 10m, 3d 4h. */
export const duration = (seconds: number): string => {
  const s = Math.max(0, Math.floor(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`
}

/** 512 B, 12.3 KiB, 48.0 MiB, 1.20 GiB; an em dash for no measurement. */
export const bytes = (n: number | null | undefined): string => {
  if (n === null || n === undefined) return "—"
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}

export const percent = (n: number | null | undefined): string =>
  n === null || n === undefined ? "—" : `${n < 10 ? n.toFixed(1) : Math.round(n)}%`

/** The wall-clock time of an ISO timestamp, HH:MM:SS in the browser's zone. */
export const clock = (iso: string): string => {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString([], { hour12: false })
}

/** "in 4m 05s" / "5s ago" from now. */
export const relative = (iso: string, now: number): string => {
  const delta = (Date.parse(iso) - now) / 1000
  return delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`
}

/** A rate per second: 0/s, 0.4/s, 12/s; an em dash for no measurement. */
export const perSecond = (n: number | null | undefined): string =>
  n === null || n === undefined ? "—" : `${n === 0 ? "0" : n < 10 ? n.toFixed(1) : Math.round(n)}/s`
