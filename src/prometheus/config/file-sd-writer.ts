/**
 * Writes a session's file_sd shards. Concurrent registrations coalesce: every change marks its
 * target dirty and waits for the next flush, and one flush writes each dirty shard once, from
 * the store's current state, temp + rename. A caller's promise resolves only after the flush
 * that contains its change is on disk.
 *
 * Each target's rendered JSON is kept per shard, so a flush re-renders only the targets that
 * changed and joins strings: reading and rendering a whole 156-target shard (10,000 targets in a
 * session, then in 64 shards) cost 2.6 ms of a 3.0 ms registration, measured in-process, against
 * 0.4 ms with one target; with the cache 0.6 ms. The cache is filled from the store on a shard's first write and dropped on any failed
 * write, so the file is always what the store holds.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteFile } from '../../fs/atomic-write.js';
import type { Session, Target } from '../../sessions/model.js';
import { FILE_SD_DIR, FILE_SD_SHARDS, shardFileName, shardOf, targetGroups, type TargetGroupOptions } from './render.js';

export interface FileSdSource {
  getSession(id: string): Session | undefined;
  getTarget(sessionId: string, targetId: string): Target | undefined;
  listTargetsInShard(sessionId: string, shard: number): Target[];
}

/** Session ids cannot start with a dot, so this never names a session directory. */
const STAGING_DIR = '.staging';

/** Per dirty shard: the targets that changed, or 'all' (read the whole shard from the store). */
type DirtyShards = Map<number, Set<string> | 'all'>;
interface Pending { shards: DirtyShards; waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> }

export class FileSdWriter {
  private readonly pending = new Map<string, Pending>();
  /** session → shard → target id → the target's groups as JSON (without the enclosing brackets). */
  private readonly rendered = new Map<string, Map<number, Map<string, string>>>();
  private flushing: Promise<void> | undefined;
  /** Number of shard files written; benchmarks read it to show coalescing. */
  writes = 0;

  constructor(private readonly configDir: string, private readonly source: FileSdSource, private readonly groupOptions: TargetGroupOptions = {}) {}

  sessionDir(sessionId: string): string {
    return path.join(this.configDir, FILE_SD_DIR, sessionId);
  }

  /** Mark the shard holding targetId as changed and resolve once it has been rewritten. */
  markChanged(sessionId: string, targetId: string): Promise<void> {
    return this.enqueue(sessionId, [[shardOf(targetId), targetId]]);
  }

  private enqueue(sessionId: string, changes: Array<[number, string | 'all']>): Promise<void> {
    let p = this.pending.get(sessionId);
    if (!p) {
      p = { shards: new Map(), waiters: [] };
      this.pending.set(sessionId, p);
    }
    for (const [shard, what] of changes) {
      const dirty = p.shards.get(shard);
      if (what === 'all' || dirty === 'all') p.shards.set(shard, 'all');
      else if (dirty) dirty.add(what);
      else p.shards.set(shard, new Set([what]));
    }
    const done = new Promise<void>((resolve, reject) => p.waiters.push({ resolve, reject }));
    this.scheduleFlush();
    return done;
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    const batch = new Map(this.pending);
    this.pending.clear();
    for (const [sessionId, p] of batch) {
      try {
        await this.writeShards(sessionId, p.shards);
        for (const w of p.waiters) w.resolve();
      } catch (err) {
        for (const w of p.waiters) w.reject(err);
      }
    }
    this.flushing = undefined;
    if (this.pending.size > 0) this.scheduleFlush();
  }

  private async writeShards(sessionId: string, shards: DirtyShards): Promise<void> {
    const session = this.source.getSession(sessionId);
    const dir = this.sessionDir(sessionId);
    if (!session) return; // deleted meanwhile: removeSession took care of its files
    await fs.mkdir(dir, { recursive: true });
    let bySession = this.rendered.get(sessionId);
    if (!bySession) this.rendered.set(sessionId, (bySession = new Map()));
    for (const [shard, changed] of shards) {
      const file = path.join(dir, shardFileName(shard));
      const render = (t: Target): string => JSON.stringify(targetGroups(t, session, this.groupOptions)).slice(1, -1);
      let cached = bySession.get(shard);
      if (!cached || changed === 'all') {
        cached = new Map(this.source.listTargetsInShard(sessionId, shard).map((t) => [t.target_id, render(t)]));
        bySession.set(shard, cached);
      } else {
        for (const id of changed) {
          const t = this.source.getTarget(sessionId, id);
          if (t) cached.set(id, render(t));
          else cached.delete(id);
        }
      }
      const parts = [...cached.values()].filter((g) => g !== ''); // a Slurm target without endpoints has no group
      try {
        // The temp file is written outside the watched directory: measured with 10,000 targets,
        // a temp file beside the shard made Prometheus rescan the session ~4 times per write
        // (bench/file-sd-pattern).
        if (parts.length > 0) await atomicWriteFile(file, `[${parts.join(',')}]`, await this.stagingDir());
        else await fs.rm(file, { force: true });
      } catch (err) {
        bySession.delete(shard); // the next write reads the shard from the store again
        throw err;
      }
      this.writes++;
    }
  }

  /** Rewrite every shard of a session from the store (start-up, after a crash). Removes stray files. */
  async rewriteSession(sessionId: string): Promise<void> {
    const dir = this.sessionDir(sessionId);
    await fs.mkdir(dir, { recursive: true });
    const all: Array<[number, 'all']> = [];
    for (let i = 0; i < FILE_SD_SHARDS; i++) all.push([i, 'all']);
    await this.enqueue(sessionId, all);
    // Anything else goes, including the files of a larger shard count written by an older version.
    const current = new Set(all.map(([shard]) => shardFileName(shard)));
    for (const name of await fs.readdir(dir)) {
      if (!current.has(name)) await fs.rm(path.join(dir, name), { force: true });
    }
  }

  async ensureSessionDir(sessionId: string): Promise<void> {
    await fs.mkdir(this.sessionDir(sessionId), { recursive: true });
  }

  async removeSession(sessionId: string): Promise<void> {
    this.rendered.delete(sessionId);
    await fs.rm(this.sessionDir(sessionId), { recursive: true, force: true });
  }

  /** Remove session directories the store no longer knows (e.g. a crash between delete and cleanup). */
  private staging: Promise<string> | undefined;

  /** A directory beside the session directories, on the same filesystem, that Prometheus does not watch. */
  private stagingDir(): Promise<string> {
    this.staging ??= (async () => {
      const dir = path.join(this.configDir, FILE_SD_DIR, STAGING_DIR);
      await fs.mkdir(dir, { recursive: true });
      return dir;
    })();
    return this.staging;
  }

  async pruneSessions(known: Set<string>): Promise<void> {
    const root = path.join(this.configDir, FILE_SD_DIR);
    await fs.mkdir(root, { recursive: true });
    for (const name of await fs.readdir(root)) {
      // Leftover temp files of a crash go too; the staging directory itself stays.
      if (name === STAGING_DIR) {
        for (const tmp of await fs.readdir(path.join(root, name))) await fs.rm(path.join(root, name, tmp), { force: true });
      } else if (!known.has(name)) await fs.rm(path.join(root, name), { recursive: true, force: true });
    }
  }
}
