import { afterEach, describe, expect, it } from "vitest"
import { startApiServer } from "../../src/api/apiServer.ts"
import { validateConfigObject } from "../../src/config/load.ts"
import { unitSpecsFromConfig } from "../../src/runtime/fromConfig.ts"
import { Sam } from "../../src/runtime/sam.ts"

// The config's descriptive fields (type, version, dependencies) do nothing but they are not
// swallowed either: the API shows them as each unit's `labels`.

const token = "labels-test-admin-token-0123456"
const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe("labels", () => {
  it("are the config's type, version and dependencies, as written", async () => {
    const config = validateConfigObject({
      services: {
        vectors: {
          type: "vector-database",
          version: "1.7.0",
          dependencies: ["qdrant"],
          deployment: { mode: "external", url: "http://127.0.0.1:1" },
        },
        bare: { deployment: { mode: "external", url: "http://127.0.0.1:1" } },
      },
      agents: { helper: { path: ".", version: "0.3.0", dependencies: ["openai"] } },
    })
    const sam = new Sam({ units: unitSpecsFromConfig(config).units })
    const server = await startApiServer({ sam, port: 0, localToken: token })
    cleanups.push(
      () => server.close(),
      () => sam.stop(),
    )
    const get = async (path: string) =>
      (await (
        await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as {
        labels: unknown
      }
    expect((await get("/api/services/vectors")).labels).toEqual({
      type: "vector-database",
      version: "1.7.0",
      dependencies: ["qdrant"],
    })
    expect((await get("/api/services/bare")).labels).toEqual({ type: null, version: null, dependencies: [] })
    expect((await get("/api/agents/helper")).labels).toEqual({
      type: null,
      version: "0.3.0",
      dependencies: ["openai"],
    })
  })
})
