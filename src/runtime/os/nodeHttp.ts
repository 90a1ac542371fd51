// node:http and node:https as their CommonJS modules (process.getBuiltinModule), for every SAM
// module that needs them. An ESM `import ... from "node:http"` evaluates each of the module's
// exports, and http's lazy WebSocket, CloseEvent and MessageEvent getters then load Node's own
// bundled undici: +17 MB of RSS in the daemon, the CLI and agents (bench/RESULTS.md, "Findings").
// Types still come from `import type`; test/runtime/moduleFootprint.test.ts checks undici stays unloaded.

/** node:http, without the ESM facade that loads undici. */
export const nodeHttp = (): typeof import("node:http") => process.getBuiltinModule("node:http")

/** node:https (loaded on first use: a SAM without https health checks or webhooks never needs it). */
export const nodeHttps = (): typeof import("node:https") => process.getBuiltinModule("node:https")
