// The dashboard's login link: `<url>/?token=<token>` signs a browser in (browserLogin.ts) and is
// printed by `sam start` and `sam dashboard`. It holds the token: treat it like the token file.

/** The login link for the API at `url` with `token`; the bare page (a token form) without one. */
export const dashboardLink = (url: string, token: string | undefined): string =>
  token === undefined ? `${url}/` : `${url}/?token=${encodeURIComponent(token)}`
