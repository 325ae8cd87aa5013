/**
 * The one source of truth: SQLite in WAL mode under the state directory. Every method is a
 * single statement or transaction, so an acknowledged write is on disk before the answer goes
 * out and survives a crash of the process.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import type { SlurmNodeEndpoint, Session, Target } from '../sessions/model.js';
import type { Phase } from '../collect/phases.js';
import { jobPhase } from '../slurm/model.js';

interface SessionRow { id: string; labels: string; scrape_interval: string | null; created_at: string }
interface TargetRow {
  session_id: string; target_id: string; job_id: string | null; target_type: string; role: string; job_name: string;
  metrics_path: string; scheme: string; scrape_interval: string; scrape_timeout: string; labels: string; endpoints: string; created_at: string;
  slurm_job_id: string | null; slurm_port: number | null; slurm_state: string | null; slurm_reason: string | null; slurm_nodes: string | null; via_proxy: number;
}

/** An exporter started as a step inside a Slurm job (POST /sessions/{id}/exporters). */
export interface ExporterRecord {
  id: string;
  session_id: string;
  kind: string;
  slurm_job_id: string;
  port: number;
  target_id: string;
  /** starting, running, stopped, failed. */
  state: string;
  created_at: string;
}

/** The Slurm part of a target the job tracker updates. */
export interface SlurmTargetUpdate { state: string | null; reason: string | null; nodes: SlurmNodeEndpoint[]; endpoints: string[] }

export interface ConfigRevision { id: number; checksum: string; content: string; applied_at: string; outcome: 'applied' | 'rolled_back'; reason: string | null }

function toSession(row: SessionRow): Session {
  return { session_id: row.id, labels: JSON.parse(row.labels) as Record<string, string>, scrape_interval: row.scrape_interval, created_at: row.created_at };
}

function toTarget(row: TargetRow): Target {
  return {
    session_id: row.session_id,
    target_id: row.target_id,
    job_id: row.job_id,
    target_type: row.target_type,
    role: row.role as Target['role'],
    job_name: row.job_name,
    metrics_path: row.metrics_path,
    scheme: row.scheme as Target['scheme'],
    scrape_interval: row.scrape_interval,
    scrape_timeout: row.scrape_timeout,
    labels: JSON.parse(row.labels) as Record<string, string>,
    endpoints: JSON.parse(row.endpoints) as string[],
    created_at: row.created_at,
    slurm:
      row.slurm_job_id === null
        ? null
        : {
            job_id: row.slurm_job_id,
            port: row.slurm_port ?? 0,
            state: row.slurm_state,
            phase: row.slurm_state === null ? 'unknown' : jobPhase(row.slurm_state),
            reason: row.slurm_reason,
            nodes: row.slurm_nodes ? (JSON.parse(row.slurm_nodes) as SlurmNodeEndpoint[]) : [],
          },
    via_proxy: row.via_proxy === 1,
  };
}

export class StateStore {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed transaction survives a crash of this process (the WAL is
    // in the OS page cache); only a power loss could lose the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.stmts = {
      insertSession: this.db.prepare('INSERT INTO sessions (id, labels, scrape_interval, created_at) VALUES (?, ?, ?, ?)'),
      getSession: this.db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
      listSessions: this.db.prepare<[], SessionRow>('SELECT * FROM sessions ORDER BY created_at, id'),
      deleteSession: this.db.prepare('DELETE FROM sessions WHERE id = ?'),
      insertTarget: this.db.prepare(
        `INSERT INTO targets (session_id, target_id, job_id, target_type, role, job_name, metrics_path, scheme, scrape_interval,
          scrape_timeout, labels, endpoints, created_at, shard, slurm_job_id, slurm_port, slurm_state, slurm_reason, slurm_nodes, via_proxy)
          VALUES (@session_id, @target_id, @job_id, @target_type, @role, @job_name,
          @metrics_path, @scheme, @scrape_interval, @scrape_timeout, @labels, @endpoints, @created_at, @shard,
          @slurm_job_id, @slurm_port, @slurm_state, @slurm_reason, @slurm_nodes, @via_proxy)`,
      ),
      listSlurmTargets: this.db.prepare<[], TargetRow>('SELECT * FROM targets WHERE slurm_job_id IS NOT NULL ORDER BY created_at, session_id, target_id'),
      findSlurmTargets: this.db.prepare<[string], TargetRow>('SELECT * FROM targets WHERE slurm_job_id = ? ORDER BY created_at, session_id, target_id'),
      updateSlurm: this.db.prepare(
        'UPDATE targets SET slurm_state = @state, slurm_reason = @reason, slurm_nodes = @nodes, endpoints = @endpoints WHERE session_id = @session_id AND target_id = @target_id',
      ),
      insertExporter: this.db.prepare(
        `INSERT INTO exporters (id, session_id, kind, slurm_job_id, port, target_id, state, created_at)
          VALUES (@id, @session_id, @kind, @slurm_job_id, @port, @target_id, @state, @created_at)`,
      ),
      getExporter: this.db.prepare<[string], ExporterRecord>('SELECT * FROM exporters WHERE id = ?'),
      listExporters: this.db.prepare<[string], ExporterRecord>('SELECT * FROM exporters WHERE session_id = ? ORDER BY created_at, id'),
      listAllExporters: this.db.prepare<[], ExporterRecord>('SELECT * FROM exporters ORDER BY created_at, id'),
      setExporterState: this.db.prepare('UPDATE exporters SET state = ? WHERE id = ?'),
      deleteExporter: this.db.prepare('DELETE FROM exporters WHERE id = ?'),
      getTarget: this.db.prepare<[string, string], TargetRow>('SELECT * FROM targets WHERE session_id = ? AND target_id = ?'),
      getTargetByJobName: this.db.prepare<[string, string], TargetRow>('SELECT * FROM targets WHERE session_id = ? AND job_name = ?'),
      listTargets: this.db.prepare<[string], TargetRow>('SELECT * FROM targets WHERE session_id = ? ORDER BY created_at, target_id'),
      countTargets: this.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM targets WHERE session_id = ?'),
      deleteTarget: this.db.prepare('DELETE FROM targets WHERE session_id = ? AND target_id = ?'),
      insertCollection: this.db.prepare(
        `INSERT INTO collections (id, session_id, created_at, start_time, end_time, step, recipe, output_dir, summary)
         VALUES (@id, @session_id, @created_at, @start_time, @end_time, @step, @recipe, @output_dir, @summary)`,
      ),
      listCollections: this.db.prepare<[string], { summary: string }>('SELECT summary FROM collections WHERE session_id = ? ORDER BY created_at, id'),
      getCollection: this.db.prepare<[string], { summary: string }>('SELECT summary FROM collections WHERE id = ?'),
      insertPhase: this.db.prepare(
        `INSERT INTO phases (session_id, name, start_time, end_time, created_at) VALUES (@session_id, @name, @start_time, @end_time, @created_at)
         ON CONFLICT (session_id, name) DO NOTHING`,
      ),
      getPhase: this.db.prepare<[string, string], Phase>('SELECT * FROM phases WHERE session_id = ? AND name = ?'),
      listPhases: this.db.prepare<[string], Phase>('SELECT * FROM phases WHERE session_id = ? ORDER BY start_time, name'),
      endPhase: this.db.prepare('UPDATE phases SET end_time = ? WHERE session_id = ? AND name = ? AND end_time IS NULL'),
      deletePhase: this.db.prepare('DELETE FROM phases WHERE session_id = ? AND name = ?'),
      insertRevision: this.db.prepare('INSERT INTO config_revisions (checksum, content, applied_at, outcome, reason) VALUES (?, ?, ?, ?, ?)'),
      lastApplied: this.db.prepare<[], ConfigRevision>("SELECT * FROM config_revisions WHERE outcome = 'applied' ORDER BY id DESC LIMIT 1"),
    };
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  insertSession(s: Session): void {
    this.stmts.insertSession.run(s.session_id, JSON.stringify(s.labels), s.scrape_interval, s.created_at);
  }

  getSession(id: string): Session | undefined {
    const row = this.stmts.getSession.get(id);
    return row ? toSession(row) : undefined;
  }

  listSessions(): Session[] {
    return this.stmts.listSessions.all().map(toSession);
  }

  /** Deletes the session and (by cascade) its targets. Returns false when there was none. */
  deleteSession(id: string): boolean {
    return this.stmts.deleteSession.run(id).changes > 0;
  }

  /** shard: the target's bucket of the stable id hash (render.ts shardOf; the file_sd writer's in-memory chunk). */
  insertTarget(t: Target, shard: number): void {
    const slurm = t.slurm ?? null;
    this.stmts.insertTarget.run({
      ...t,
      labels: JSON.stringify(t.labels),
      endpoints: JSON.stringify(t.endpoints),
      shard,
      slurm_job_id: slurm?.job_id ?? null,
      slurm_port: slurm?.port ?? null,
      slurm_state: slurm?.state ?? null,
      slurm_reason: slurm?.reason ?? null,
      slurm_nodes: slurm ? JSON.stringify(slurm.nodes) : null,
      via_proxy: t.via_proxy ? 1 : 0,
    });
  }

  /** Every target registered by Slurm job id, in every session. */
  listSlurmTargets(): Target[] {
    return this.stmts.listSlurmTargets.all().map(toTarget);
  }

  /** The targets of one Slurm job, in every session. */
  findSlurmTargets(slurmJobId: string): Target[] {
    return this.stmts.findSlurmTargets.all(slurmJobId).map(toTarget);
  }

  /** Records a Slurm target's job state and current endpoints; false when the target is gone. */
  updateSlurmTarget(sessionId: string, targetId: string, u: SlurmTargetUpdate): boolean {
    return (
      this.stmts.updateSlurm.run({ session_id: sessionId, target_id: targetId, state: u.state, reason: u.reason, nodes: JSON.stringify(u.nodes), endpoints: JSON.stringify(u.endpoints) })
        .changes > 0
    );
  }

  insertExporter(e: ExporterRecord): void {
    this.stmts.insertExporter.run(e);
  }

  getExporter(id: string): ExporterRecord | undefined {
    return this.stmts.getExporter.get(id);
  }

  listExporters(sessionId?: string): ExporterRecord[] {
    return sessionId === undefined ? this.stmts.listAllExporters.all() : this.stmts.listExporters.all(sessionId);
  }

  setExporterState(id: string, state: string): void {
    this.stmts.setExporterState.run(state, id);
  }

  deleteExporter(id: string): void {
    this.stmts.deleteExporter.run(id);
  }

  getTarget(sessionId: string, targetId: string): Target | undefined {
    const row = this.stmts.getTarget.get(sessionId, targetId);
    return row ? toTarget(row) : undefined;
  }

  getTargetByJobName(sessionId: string, jobName: string): Target | undefined {
    const row = this.stmts.getTargetByJobName.get(sessionId, jobName);
    return row ? toTarget(row) : undefined;
  }

  listTargets(sessionId: string): Target[] {
    return this.stmts.listTargets.all(sessionId).map(toTarget);
  }

  countTargets(sessionId: string): number {
    return this.stmts.countTargets.get(sessionId)!.n;
  }

  deleteTarget(sessionId: string, targetId: string): boolean {
    return this.stmts.deleteTarget.run(sessionId, targetId).changes > 0;
  }

  /** A finished collection; `summary` is what the collect answer carried (KPIs, directory, files). */
  insertCollection(c: { id: string; session_id: string; start_time: string; end_time: string; step: string; recipe: string; output_dir: string; summary: unknown }): void {
    this.stmts.insertCollection.run({ ...c, created_at: new Date().toISOString(), summary: JSON.stringify(c.summary) });
  }

  /** One collection's summary by its id (collection ids are unique across sessions). */
  getCollection<T>(id: string): T | undefined {
    const row = this.stmts.getCollection.get(id);
    return row === undefined ? undefined : (JSON.parse(row.summary) as T);
  }

  listCollections<T>(sessionId: string): T[] {
    return this.stmts.listCollections.all(sessionId).map((r) => JSON.parse(r.summary) as T);
  }

  /** Stores a new phase; false when the session already has a phase of that name. */
  insertPhase(p: Phase): boolean {
    return this.stmts.insertPhase.run(p).changes > 0;
  }

  getPhase(sessionId: string, name: string): Phase | undefined {
    return this.stmts.getPhase.get(sessionId, name);
  }

  /** A session's phases by start time (RFC 3339 UTC text sorts in time order). */
  listPhases(sessionId: string): Phase[] {
    return this.stmts.listPhases.all(sessionId);
  }

  /** Sets the end of an open phase; false when there is no such phase or it has ended already. */
  endPhase(sessionId: string, name: string, endTime: string): boolean {
    return this.stmts.endPhase.run(endTime, sessionId, name).changes > 0;
  }

  deletePhase(sessionId: string, name: string): boolean {
    return this.stmts.deletePhase.run(sessionId, name).changes > 0;
  }

  recordConfigRevision(checksum: string, content: string, outcome: ConfigRevision['outcome'], reason: string | null): void {
    this.stmts.insertRevision.run(checksum, content, new Date().toISOString(), outcome, reason);
  }

  lastAppliedConfig(): ConfigRevision | undefined {
    return this.stmts.lastApplied.get();
  }

  isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
