/**
 * Schema migrations, applied in order inside one transaction each; PRAGMA user_version records
 * how far a database has come. Never edit a migration that has shipped: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    labels          TEXT NOT NULL,
    scrape_interval TEXT,
    created_at      TEXT NOT NULL
  );
  CREATE TABLE targets (
    session_id      TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    target_id       TEXT NOT NULL,
    job_id          TEXT,
    target_type     TEXT NOT NULL,
    role            TEXT NOT NULL,
    job_name        TEXT NOT NULL,
    metrics_path    TEXT NOT NULL,
    scheme          TEXT NOT NULL,
    scrape_interval TEXT NOT NULL,
    scrape_timeout  TEXT NOT NULL,
    labels          TEXT NOT NULL,
    endpoints       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (session_id, target_id)
  );
  CREATE UNIQUE INDEX targets_job_name ON targets(session_id, job_name);
  CREATE TABLE config_revisions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    checksum   TEXT NOT NULL,
    content    TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    reason     TEXT
  );
  `,
  // 2: the file_sd shard of each target, so rewriting one shard reads only its targets.
  `
  ALTER TABLE targets ADD COLUMN shard INTEGER NOT NULL DEFAULT -1;
  CREATE INDEX targets_shard ON targets(session_id, shard);
  `,
];
