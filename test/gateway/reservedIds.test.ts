import { describe, expect, it } from "vitest"
import { openApiDocument } from "../../src/api/controlApi.ts"
import { RESERVED_IDS } from "../../src/config/crossChecks.ts"

// /api/<id>/... is the gateway's unless <id> is one of the control API's: a unit may not take
// such an id, and the gateway leaves those paths to the control API. A new endpoint whose first
// segment is missing here would be swallowed by the gateway as an unknown service.
describe("reserved ids", () => {
  it("cover the first segment of every control API path", () => {
    const paths = Object.keys(openApiDocument().paths).filter((path) => path.startsWith("/api/"))
    const roots = new Set(paths.map((path) => path.split("/")[2] ?? ""))
    expect(roots.size).toBeGreaterThan(5)
    for (const root of roots) expect(RESERVED_IDS, `/api/${root}`).toContain(root)
  })
})
