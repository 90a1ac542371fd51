// The runtime store's tables, as the ordered migrations migrations.ts applies. Append a step for
// every change; never edit a released step (a database at that version already ran it).
import type { Migration } from "./migrations.ts"

const v1: Migration = (db) =>
  db.exec(`
    CREATE TABLE desired_state (
      unit TEXT PRIMARY KEY,
      state TEXT NOT NULL CHECK (state IN ('running', 'stopped')),
      by TEXT NOT NULL,
      at TEXT NOT NULL,
      config_hash TEXT NOT NULL
    ) STRICT;
    CREATE TABLE instances (
      unit TEXT NOT NULL,
      instance INTEGER NOT NULL,
      pid INTEGER NOT NULL,
      start_time TEXT NOT NULL,
      cell TEXT NOT NULL,
      port INTEGER,
      started_at TEXT NOT NULL,
      PRIMARY KEY (unit, instance)
    ) STRICT;
    CREATE TABLE ports (
      unit TEXT NOT NULL,
      instance INTEGER NOT NULL,
      port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
      PRIMARY KEY (unit, instance)
    ) STRICT;
    CREATE TABLE restart_windows (
      key TEXT PRIMARY KEY,
      stamps TEXT NOT NULL,
      consecutive_failures INTEGER NOT NULL,
      restarts INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE sam_runs (
      sam_id TEXT PRIMARY KEY,
      pid INTEGER NOT NULL,
      start_time TEXT NOT NULL,
      started_at TEXT NOT NULL,
      stopped_at TEXT,
      cgroup_dirs TEXT NOT NULL
    ) STRICT;
    CREATE INDEX sam_runs_started ON sam_runs (started_at);
    CREATE TABLE crash_reports (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      unit TEXT NOT NULL,
      instance INTEGER NOT NULL,
      time TEXT NOT NULL,
      exit_code INTEGER,
      signal TEXT,
      reason TEXT NOT NULL,
      uptime_ms INTEGER NOT NULL,
      restarts INTEGER NOT NULL,
      last_lines TEXT NOT NULL,
      resources TEXT NOT NULL
    ) STRICT;
    CREATE INDEX crash_reports_unit_time ON crash_reports (unit, time);
    CREATE INDEX crash_reports_time ON crash_reports (time);
    CREATE TABLE alert_history (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      rule TEXT NOT NULL,
      unit TEXT,
      state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
      started_at TEXT NOT NULL,
      ended_at TEXT,
      labels TEXT NOT NULL,
      annotations TEXT NOT NULL
    ) STRICT;
    CREATE INDEX alert_history_rule ON alert_history (rule, started_at);
    CREATE TABLE audit_checkpoints (
      seq INTEGER PRIMARY KEY,
      count INTEGER NOT NULL,
      head_hash TEXT NOT NULL,
      file TEXT NOT NULL,
      at TEXT NOT NULL
    ) STRICT;
  `)

/** Crash reports say what failed: an exit, or the limit the instance was killed for. */
const v2: Migration = (db) =>
  db.exec(`ALTER TABLE crash_reports ADD COLUMN failure TEXT NOT NULL DEFAULT 'exit';`)

/** Browser sessions survive a SAM restart (src/api/sessions.ts; no usable secret is stored). */
const v3: Migration = (db) =>
  db.exec(`
    CREATE TABLE browser_sessions (
      id_digest TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
      expires_at INTEGER NOT NULL,
      credential TEXT NOT NULL
    ) STRICT;
    CREATE INDEX browser_sessions_expiry ON browser_sessions (expires_at);
  `)

/** An operator's scale outlives SAM restarts, as its stop does (scaledInstances.ts). */
const v4: Migration = (db) =>
  db.exec(`
    CREATE TABLE scaled_instances (
      unit TEXT PRIMARY KEY,
      instances INTEGER NOT NULL CHECK (instances >= 0),
      by TEXT NOT NULL,
      at TEXT NOT NULL,
      config_hash TEXT NOT NULL
    ) STRICT;
  `)

/** Index i takes the database from version i to i + 1; its length is the current version. */
export const runtimeStoreMigrations: ReadonlyArray<Migration> = [v1, v2, v3, v4]
