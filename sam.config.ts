// SAM's own demo configuration: `npm start` runs it. Everything here is local; nothing is
// downloaded. blob-store (python3, not Node) must be ready before notes-store (Node) starts;
// notesAgent needs notes-store and summaryAgent.
import { defineConfig } from "./src/index.ts"

export default defineConfig({
  agents: {
    // Extractive summarization, sandboxed (Node permission model): reads only its own files,
    // writes only its data dir, no child processes.
    summaryAgent: {
      path: "agents/summary",
      runtime: "sandbox",
      security_profile: "standard",
      capabilities: ["text_summarization"],
      resources: { max_memory_mb: 256, max_cpu_percent: 50, timeout_seconds: 10 },
    },
    // Searches and digests the notes in notes-store (SAM injects SAM_NOTES_STORE_URL) and asks
    // summaryAgent for summaries through SAM.
    notesAgent: {
      path: "agents/notes",
      runtime: "sandbox",
      capabilities: ["notes_search", "notes_add", "notes_digest"],
      depends_on: ["notes-store", "summaryAgent"],
      resources: { max_memory_mb: 256, timeout_seconds: 10 },
    },
  },
  services: {
    "blob-store": {
      type: "object-store",
      deployment: {
        mode: "process",
        // SAM picks the port and fills in ${sam.port} (no shell needed).
        command: "python3",
        args: ["-m", "http.server", "${sam.port}", "--bind", "127.0.0.1", "--directory", "demo/blobs"],
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
