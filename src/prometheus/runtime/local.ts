/**
 * PROMETHEUS_MODE=local: benchmon spawns Debian's `prometheus` with its own config and data
 * directories under the state directory and supervises it: waits for readiness, restarts it
 * with backoff when it dies, stops it cleanly on shutdown. A Prometheus left behind by a
 * benchmon that was killed (same config file) is stopped first, so a restart never finds its
 * own port taken.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { BenchmonError } from '../../errors.js';
import type { PrometheusClient } from '../client.js';
import { findExecutable } from '../config/promtool.js';
import type { PrometheusRuntime, RuntimeStatus } from './runtime.js';

export interface LocalRuntimeOptions {
  bin: string;
  configPath: string;
  dataDir: string;
  listenHost: string;
  listenPort: number;
  retention: string;
  client: PrometheusClient;
  logger: Logger;
  onRestart?: () => void;
  readyTimeoutMs?: number;
}

const INSTALL_HINT = 'install it with: sudo apt-get install prometheus (or set PROMETHEUS_BIN)';
const MAX_BACKOFF_MS = 30_000;

function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class LocalRuntime implements PrometheusRuntime {
  readonly mode = 'local' as const;
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  private lastExit: string | null = null;
  private backoffMs = 1000;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly stderrTail: string[] = [];
  private readonly pidFile: string;
  private readonly logFile: string;

  constructor(private readonly opts: LocalRuntimeOptions) {
    this.pidFile = path.join(path.dirname(opts.configPath), 'prometheus.pid');
    this.logFile = path.join(path.dirname(opts.configPath), 'prometheus.log');
  }

  status(): RuntimeStatus {
    return { mode: 'local', running: this.child?.exitCode === null, pid: this.child?.pid ?? null, restarts: this.restarts, last_exit: this.lastExit };
  }

  async start(): Promise<void> {
    const exe = findExecutable(this.opts.bin);
    if (!exe) throw new BenchmonError('PROM_RUNTIME_FAILED', `Prometheus binary ${JSON.stringify(this.opts.bin)} not found; ${INSTALL_HINT}`);
    await this.stopLeftover();
    if (!(await portIsFree(this.opts.listenHost, this.opts.listenPort))) {
      throw new BenchmonError(
        'PROM_RUNTIME_FAILED',
        `cannot start Prometheus: ${this.opts.listenHost}:${this.opts.listenPort} (PROMETHEUS_URL) is already in use; stop what listens there or choose another PROMETHEUS_URL`,
      );
    }
    fs.mkdirSync(this.opts.dataDir, { recursive: true });
    this.stopping = false;
    await this.spawnAndWait(exe);
  }

  /** A Prometheus of ours whose benchmon was killed: its pid file names it and its command line has our config. */
  private async stopLeftover(): Promise<void> {
    let pid: number;
    try {
      pid = Number(fs.readFileSync(this.pidFile, 'utf8').trim());
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !processAlive(pid)) return;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return;
    }
    if (!cmdline.includes(`--config.file=${this.opts.configPath}`)) return;
    this.opts.logger.warn({ pid }, 'stopping a Prometheus left running by an earlier benchmon');
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && processAlive(pid); i++) await sleep(100);
    if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && processAlive(pid); i++) await sleep(100);
  }

  private args(): string[] {
    const host = this.opts.listenHost.includes(':') ? `[${this.opts.listenHost}]` : this.opts.listenHost;
    return [
      `--config.file=${this.opts.configPath}`,
      `--storage.tsdb.path=${this.opts.dataDir}`,
      `--storage.tsdb.retention.time=${this.opts.retention}`,
      `--web.listen-address=${host}:${this.opts.listenPort}`,
      '--web.enable-lifecycle',
      '--web.enable-admin-api',
      '--log.format=json',
    ];
  }

  private async spawnAndWait(exe: string): Promise<void> {
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(exe, this.args(), { stdio: ['ignore', log, 'pipe'] });
    fs.closeSync(log);
    this.child = child;
    this.startedAt = Date.now();
    fs.writeFileSync(this.pidFile, `${child.pid}\n`);
    const logStream = fs.createWriteStream(this.logFile, { flags: 'a' });
    child.stderr!.on('data', (chunk: Buffer) => {
      logStream.write(chunk);
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue;
        this.stderrTail.push(line);
        if (this.stderrTail.length > 20) this.stderrTail.shift();
      }
    });
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`));
    });
    void exited.then((how) => {
      logStream.end();
      this.onExit(child, how);
    });

    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? 60_000);
    let exitedEarly: string | undefined;
    void exited.then((how) => (exitedEarly = how));
    while (Date.now() < deadline) {
      if (exitedEarly !== undefined) {
        throw new BenchmonError('PROM_RUNTIME_FAILED', `Prometheus exited during start-up (${exitedEarly}): ${this.lastErrorLine()}`);
      }
      if (await this.opts.client.isReady()) {
        this.opts.logger.info({ pid: child.pid, url: this.opts.client.baseUrl }, 'local prometheus ready');
        return;
      }
      await sleep(200);
    }
    throw new BenchmonError('PROM_RUNTIME_FAILED', `Prometheus did not become ready within ${this.opts.readyTimeoutMs ?? 60_000} ms: ${this.lastErrorLine()}`);
  }

  private lastErrorLine(): string {
    for (let i = this.stderrTail.length - 1; i >= 0; i--) {
      const line = this.stderrTail[i]!;
      if (/level=?"?(error|fatal)/i.test(line) || /"level":"(error|fatal)"/.test(line)) return line;
    }
    return this.stderrTail.at(-1) ?? 'no output';
  }

  private onExit(child: ChildProcess, how: string): void {
    if (child !== this.child) return;
    this.lastExit = how;
    if (this.stopping) return;
    // A Prometheus that ran for a minute was stable: start the backoff from the beginning.
    if (Date.now() - this.startedAt > 60_000) this.backoffMs = 1000;
    this.opts.logger.error({ how, last: this.lastErrorLine(), backoff_ms: this.backoffMs }, 'local prometheus died; restarting');
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      const exe = findExecutable(this.opts.bin);
      if (!exe) {
        this.opts.logger.error(`Prometheus binary disappeared; ${INSTALL_HINT}`);
        return;
      }
      this.restarts++;
      this.opts.onRestart?.();
      this.spawnAndWait(exe).catch((err: unknown) => this.opts.logger.error({ err: (err as Error).message }, 'prometheus restart failed'));
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      fs.rmSync(this.pidFile, { force: true });
      return;
    }
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
    fs.rmSync(this.pidFile, { force: true });
  }
}
