import { defineConfig } from "vitest/config"

// Tests spawn real processes and sockets; 2-core CI machines need generous per-test timeouts,
// but a hung test must still fail rather than stall the suite.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    maxWorkers: 2,
  },
})
