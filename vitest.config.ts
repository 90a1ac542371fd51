import { defineConfig } from "vitest/config"

// Tests spawn real processes and sockets; 2-core CI machines need generous per-test timeouts,
// but a hung test must still fail rather than stall the suite.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The dashboard's built assets, which the API serves (built once, when stale).
    globalSetup: ["test/support/buildDashboard.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    maxWorkers: 2,
  },
})
