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
  // 3: Slurm-hosted targets (resolved from a job id, tracked through the job's life),
  // exporters started inside jobs, and window collections with their manifests.
  `
  ALTER TABLE targets ADD COLUMN slurm_job_id TEXT;
  ALTER TABLE targets ADD COLUMN slurm_port INTEGER;
  ALTER TABLE targets ADD COLUMN slurm_state TEXT;
  ALTER TABLE targets ADD COLUMN slurm_reason TEXT;
  ALTER TABLE targets ADD COLUMN slurm_nodes TEXT;
  ALTER TABLE targets ADD COLUMN via_proxy INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX targets_slurm_job ON targets(slurm_job_id);
  CREATE TABLE exporters (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    slurm_job_id TEXT NOT NULL,
    port         INTEGER NOT NULL,
    target_id    TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_at   TEXT NOT NULL
  );
  CREATE TABLE collections (
    id          TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    start_time  TEXT NOT NULL,
    end_time    TEXT NOT NULL,
    step        TEXT NOT NULL,
    recipe      TEXT NOT NULL,
    output_dir  TEXT NOT NULL,
    summary     TEXT NOT NULL
  );
  CREATE INDEX collections_session ON collections(session_id, created_at);
  `,
  // 4: benchmark phases (warmup, steady, …): named spans of a session's time; end_time NULL while open.
  `
  CREATE TABLE phases (
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    start_time  TEXT NOT NULL,
    end_time    TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (session_id, name)
  );
  `,
];
