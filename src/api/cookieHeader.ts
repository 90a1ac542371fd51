// Reading a request's Cookie header (RFC 6265 5.4): `name=value` pairs split on `;`, a value's
// surrounding double quotes dropped. A name may come more than once (cookies set for other paths,
// or by another name of this host): every value is kept, in order. The session cookie
// (sessions.ts) and the gateway's hash-by-cookie (gateway/headers.ts) read it here.

/** Every value of cookie `name` in a Cookie header, in order. */
export const cookieValues = (header: string | undefined, name: string): string[] => {
  if (header === undefined) return []
  const values: string[] = []
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=")
    if (eq <= 0 || pair.slice(0, eq).trim() !== name) continue
    const value = pair.slice(eq + 1).trim()
    values.push(
      value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value,
    )
  }
  return values
}
