/**
 * Writes each session's file_sd file, `file_sd/<session>/targets.json`: one file, so one inotify
 * event per write. Prometheus re-reads every file of the session on every event in its directory
 * (discovery/file/file.go): 0.3-0.8 s with 10,000 targets. With one file per shard (64, then 8),
 * a flush of concurrent registrations wrote many files and a bulk registration of 9,000 targets
 * queued minutes of rescans (bench/register).
 *
 * Concurrent registrations coalesce: every change marks its target dirty and waits for the next
 * flush of its session, and one flush writes the file once, temp + rename. A caller's promise
 * resolves only after the flush that contains its change is on disk. While changes keep coming
 * in batches (the last flush carried more than one), the next flush waits until Prometheus has
 * had time to re-read the file (~30 µs per target, at most 0.5 s); a lone change is written at
 * once, so one registration at a time never waits.
 *
 * The file is never rebuilt from scratch: each target's rendered JSON is kept in one of 64
 * chunks (by a stable hash of its id), each chunk's bytes are kept until one of its targets
 * changes, and the file is written with one writev of the chunks. Rendering a whole session each
 * time cost 2.6 ms at 10,000 targets, and joining 10,000 strings 7 ms; re-rendering one target
 * and one chunk costs ~0.1 ms. The cache is filled from the store on a session's first write and
 * dropped when a write fails, so the file is always what the store holds.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteFile } from '../../fs/atomic-write.js';
import type { Session, Target } from '../../sessions/model.js';
import { FILE_SD_DIR, FILE_SD_FILE, shardOf, targetGroups, type TargetGroupOptions } from './render.js';

export interface FileSdSource {
  getSession(id: string): Session | undefined;
  getTarget(sessionId: string, targetId: string): Target | undefined;
  listTargets(sessionId: string): Target[];
}

/** Session ids cannot start with a dot, so this never names a session directory. */
const STAGING_DIR = '.staging';
/** In-memory chunks of a session's file (see shardOf). */
const CHUNKS = 64;
/** Prometheus's re-read of a file_sd file, per target (measured 0.3 s at 10,000), and the most a batch waits. */
const RESCAN_MS_PER_TARGET = 0.03;
const MAX_BATCH_GAP_MS = 500;

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

interface Waiter { resolve: () => void; reject: (e: unknown) => void }

interface SessionFile {
  /** Target id → its groups as JSON without the brackets ('' for none), per chunk; undefined until first read. */
  chunks: Array<Map<string, string>> | undefined;
  /** Each chunk's bytes, null when a target in it changed. */
  bytes: Array<Buffer | null>;
  targets: number;
  dirty: Set<string> | 'all';
  waiters: Waiter[];
  flushing: boolean;
  scheduled: boolean;
  lastFlushAt: number;
  lastBatch: number;
}

export class FileSdWriter {
  private readonly files = new Map<string, SessionFile>();
  /** Files written; benchmarks and tests read it to show coalescing. */
  writes = 0;

  constructor(private readonly configDir: string, private readonly source: FileSdSource, private readonly groupOptions: TargetGroupOptions = {}) {}

  sessionDir(sessionId: string): string {
    return path.join(this.configDir, FILE_SD_DIR, sessionId);
  }

  sessionFile(sessionId: string): string {
    return path.join(this.sessionDir(sessionId), FILE_SD_FILE);
  }

  /** Mark targetId as changed (added, updated or removed) and resolve once the file holding the change is on disk. */
  markChanged(sessionId: string, targetId: string): Promise<void> {
    return this.enqueue(sessionId, targetId);
  }

  private state(sessionId: string): SessionFile {
    let f = this.files.get(sessionId);
    if (!f) {
      f = { chunks: undefined, bytes: [], targets: 0, dirty: new Set(), waiters: [], flushing: false, scheduled: false, lastFlushAt: 0, lastBatch: 0 };
      this.files.set(sessionId, f);
    }
    return f;
  }

  private enqueue(sessionId: string, what: string | 'all'): Promise<void> {
    const f = this.state(sessionId);
    if (what === 'all') f.dirty = 'all';
    else if (f.dirty !== 'all') f.dirty.add(what);
    const done = new Promise<void>((resolve, reject) => f.waiters.push({ resolve, reject }));
    this.schedule(sessionId, f);
    return done;
  }

  private schedule(sessionId: string, f: SessionFile): void {
    if (f.flushing || f.scheduled) return; // the running flush reschedules when it ends
    f.scheduled = true;
    const gap = f.lastBatch > 1 ? Math.min(MAX_BATCH_GAP_MS, f.targets * RESCAN_MS_PER_TARGET) : 0;
    const wait = Math.max(0, f.lastFlushAt + gap - Date.now());
    const run = () => void this.flush(sessionId, f);
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  private async flush(sessionId: string, f: SessionFile): Promise<void> {
    f.scheduled = false;
    if (this.files.get(sessionId) !== f) return this.settleRemoved(f);
    f.flushing = true;
    const dirty = f.dirty;
    const waiters = f.waiters;
    f.dirty = new Set();
    f.waiters = [];
    f.lastFlushAt = Date.now();
    f.lastBatch = waiters.length;
    try {
      await this.write(sessionId, f, dirty);
      for (const w of waiters) w.resolve();
    } catch (err) {
      f.chunks = undefined; // the next write reads the session from the store again
      for (const w of waiters) w.reject(err);
    }
    f.flushing = false;
    if (this.files.get(sessionId) !== f) return this.settleRemoved(f);
    if (f.waiters.length > 0) this.schedule(sessionId, f);
  }

  /** The session was removed while changes waited: its file went with it, so they are done. */
  private settleRemoved(f: SessionFile): void {
    for (const w of f.waiters) w.resolve();
    f.waiters = [];
  }

  private async write(sessionId: string, f: SessionFile, dirty: Set<string> | 'all'): Promise<void> {
    const session = this.source.getSession(sessionId);
    if (!session) return; // deleted meanwhile: removeSession took care of its files
    const render = (t: Target): string => JSON.stringify(targetGroups(t, session, this.groupOptions)).slice(1, -1);
    if (!f.chunks || dirty === 'all') {
      f.chunks = Array.from({ length: CHUNKS }, () => new Map<string, string>());
      f.bytes = new Array<Buffer | null>(CHUNKS).fill(null);
      for (const t of this.source.listTargets(sessionId)) f.chunks[shardOf(t.target_id) % CHUNKS]!.set(t.target_id, render(t));
    } else {
      for (const id of dirty) {
        const chunk = shardOf(id) % CHUNKS;
        const t = this.source.getTarget(sessionId, id);
        if (t) f.chunks[chunk]!.set(id, render(t));
        else f.chunks[chunk]!.delete(id);
        f.bytes[chunk] = null;
      }
    }
    const pieces: Buffer[] = [OPEN];
    let targets = 0;
    for (let c = 0; c < CHUNKS; c++) {
      const chunk = f.chunks[c]!;
      targets += chunk.size;
      // '' is a Slurm target without endpoints now: no group.
      const bytes = (f.bytes[c] ??= Buffer.from([...chunk.values()].filter((g) => g !== '').join(',')));
      if (bytes.length === 0) continue;
      if (pieces.length > 1) pieces.push(COMMA);
      pieces.push(bytes);
    }
    pieces.push(CLOSE);
    f.targets = targets;
    await fs.mkdir(this.sessionDir(sessionId), { recursive: true });
    // The temp file is written outside the watched directory: measured with 10,000 targets, a temp
    // file beside it made Prometheus rescan the session ~4 times per write (bench/file-sd-pattern).
    await atomicWriteFile(this.sessionFile(sessionId), pieces, await this.stagingDir());
    this.writes++;
  }

  /** Rewrite a session's file from the store (start-up, after a crash). Removes any other file in its directory. */
  async rewriteSession(sessionId: string): Promise<void> {
    const dir = this.sessionDir(sessionId);
    await fs.mkdir(dir, { recursive: true });
    await this.enqueue(sessionId, 'all');
    // Including the shard-NN.json files of earlier versions.
    for (const name of await fs.readdir(dir)) {
      if (name !== FILE_SD_FILE) await fs.rm(path.join(dir, name), { force: true });
    }
  }

  async ensureSessionDir(sessionId: string): Promise<void> {
    await fs.mkdir(this.sessionDir(sessionId), { recursive: true });
  }

  async removeSession(sessionId: string): Promise<void> {
    this.files.delete(sessionId);
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
