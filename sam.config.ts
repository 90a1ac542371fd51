// SAM's own demo configuration: `npm start` runs it. Everything here is local; nothing is
// downloaded. blob-store (python3, not Node) must be ready before notes-store (Node) starts.
import { defineConfig } from "./src/index.ts"

export default defineConfig({
  services: {
    "blob-store": {
      type: "object-store",
      deployment: {
        mode: "process",
        // exec keeps python as the process SAM supervises; PORT is chosen and injected by SAM.
        command: "sh",
        args: ["-c", 'exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory demo/blobs'],
      },
      health_check: { endpoint: "/seed-notes.json", interval_seconds: 5, timeout_seconds: 2 },
      restart_policy: "always",
    },
    "notes-store": {
      type: "http-api",
      deployment: { mode: "process", command: process.execPath, args: ["demo/services/notes-store.mjs"] },
      depends_on: ["blob-store"],
      dependency_restart: "restart",
      health_check: { endpoint: "/health", interval_seconds: 5, timeout_seconds: 2 },
      restart_policy: { type: "always", max_restarts: 5, window_seconds: 60, backoff_seconds: 0.5 },
    },
  },
})
