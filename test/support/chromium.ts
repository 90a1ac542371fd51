// Chromium as the browser tests drive it (playwright-core, the Debian package's binary): headless,
// quiet (no background networking, updates, sync or first-run pages), in a profile of its own.
import { type BrowserContext, chromium } from "playwright-core"

export const chromiumArgs: ReadonlyArray<string> = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
]

/** A headless Chromium on `profile`, with `extraArgs` after the usual ones. */
export const launchChromium = (
  profile: string,
  options: {
    readonly extraArgs?: ReadonlyArray<string>
    readonly viewport?: { width: number; height: number }
  } = {},
): Promise<BrowserContext> =>
  chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [...chromiumArgs, ...(options.extraArgs ?? [])],
    ...(options.viewport === undefined ? {} : { viewport: options.viewport }),
  })
