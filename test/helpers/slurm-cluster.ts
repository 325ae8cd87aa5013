/**
 * Helpers for tests against the REAL single-node Slurm that `scripts/slurm/start.sh` starts: check
 * it is there, submit jobs that serve Prometheus text (a small Node server run by the batch script),
 * and cancel every job a test submitted.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SlurmCommands, type SubmitOptions } from '../../src/slurm/commands.js';
import { jobPhase } from '../../src/slurm/model.js';
import { REPO_ROOT, tempDir } from './harness.js';

export const START_HINT = 'start the single-node test cluster first: sudo scripts/slurm/start.sh (stop it with scripts/slurm/stop.sh)';

export function run(file: string, args: string[], timeoutMs = 20_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`)) : resolve({ stdout, stderr })));
  });
}

/** Fails the suite with a clear hint when the test cluster is not running. */
export async function requireSlurm(): Promise<void> {
  let state: string;
  try {
    state = (await run('sinfo', ['-h', '-o', '%t'])).stdout.trim();
  } catch (err) {
    throw new Error(`Slurm is not available (${(err as Error).message.trim()}); ${START_HINT}`);
  }
  assert.match(state, /^(idle|mix|alloc)/, `the Slurm node is "${state}", not usable; ${START_HINT}`);
}

export const NODE_NAME = os.hostname().split('.')[0] ?? os.hostname();

/**
 * Serves GET /metrics with a file's bytes and a given content type, after an optional delay (a
 * slow service). Anything else is 404.
 */
const SERVER_JS = `
import http from 'node:http';
import fs from 'node:fs';
const [port, file, delayMs = '0', contentType = 'text/plain; version=0.0.4; charset=utf-8'] = process.argv.slice(2);
http.createServer((req, res) => {
  if (!req.url.startsWith('/metrics')) { res.writeHead(404); res.end('not here\\n'); return; }
  setTimeout(() => {
    res.writeHead(200, { 'content-type': contentType });
    res.end(fs.readFileSync(file));
  }, Number(delayMs));
}).listen(Number(port), '0.0.0.0');
`;

/** A small exposition: a vLLM gauge and a histogram with UTF-8 label values. */
export const SAMPLE_EXPOSITION = [
  '# HELP vllm:num_requests_running Number of requests currently running on GPU.',
  '# TYPE vllm:num_requests_running gauge',
  'vllm:num_requests_running{model_name="llama-3-8b"} 3',
  '# HELP demo_latency_seconds Latency with a label value in UTF-8.',
  '# TYPE demo_latency_seconds histogram',
  'demo_latency_seconds_bucket{path="/générer",le="0.1"} 4',
  'demo_latency_seconds_bucket{path="/générer",le="+Inf"} 5',
  'demo_latency_seconds_sum{path="/générer"} 0.42',
  'demo_latency_seconds_count{path="/générer"} 5',
  '',
].join('\n');

/** Real vLLM exposition from ../shared/fixtures when present, else SAMPLE_EXPOSITION. */
export function vllmExposition(): Buffer {
  const fixture = path.join(REPO_ROOT, '..', 'shared', 'fixtures', 'vllm-v1-metrics-kops-conformance.prom');
  if (fs.existsSync(fixture)) return fs.readFileSync(fixture);
  return Buffer.from(SAMPLE_EXPOSITION);
}

export interface ServerOptions {
  /** Delay before each answer (a slow service). Default 0. */
  delayMs?: number | undefined;
  /** Default `text/plain; version=0.0.4; charset=utf-8`. */
  contentType?: string | undefined;
}

export class TestJobs {
  readonly slurm = new SlurmCommands({ timeoutMs: 30_000 });
  readonly dir = tempDir('benchmon-slurm-jobs-');
  private readonly submitted: string[] = [];
  private files = 0;

  constructor() {
    fs.writeFileSync(path.join(this.dir, 'serve.mjs'), SERVER_JS);
  }

  /** Submits a job serving `body` at http://node:port/metrics (after delayMs per request). */
  async submitServer(port: number, body: Buffer | string, options: SubmitOptions & ServerOptions = {}): Promise<string> {
    const { delayMs, contentType, ...submit } = options;
    const args = this.serverCommand(port, body, { delayMs, contentType });
    return this.submit(`#!/bin/sh\nexec ${args.map((a) => JSON.stringify(a)).join(' ')}\n`, { jobName: 'benchmon-test-svc', ...submit });
  }

  /** The command line that serves `body` at http://node:port/metrics: a batch script's, or a job step's (srun). */
  serverCommand(port: number, body: Buffer | string, { delayMs = 0, contentType }: ServerOptions = {}): string[] {
    const file = path.join(this.dir, `metrics-${++this.files}`);
    fs.writeFileSync(file, body);
    return [process.execPath, path.join(this.dir, 'serve.mjs'), String(port), file, String(delayMs), ...(contentType ? [contentType] : [])];
  }

  /** A job that only sleeps (nothing listens on any port). */
  submitSleeper(options: SubmitOptions = {}): Promise<string> {
    return this.submit('#!/bin/sh\nsleep 600\n', { jobName: 'benchmon-test-sleep', ...options });
  }

  async submit(script: string, options: SubmitOptions = {}): Promise<string> {
    const id = await this.slurm.submit(script, { chdir: this.dir, output: path.join(this.dir, 'job-%j.out'), ...options });
    this.submitted.push(id);
    return id;
  }

  async waitState(jobId: string, phase: 'running' | 'ended', timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = (await this.slurm.job(jobId)).state;
      if (jobPhase(last) === phase) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`Slurm job ${jobId} did not reach ${phase} within ${timeoutMs} ms (last ${last})`);
  }

  /** Cancels every job submitted here and waits until none of them runs. */
  async cleanup(): Promise<void> {
    for (const id of this.submitted) await this.slurm.cancel(id).catch(() => undefined);
    for (const id of this.submitted) await this.waitState(id, 'ended', 15_000).catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Job steps as squeue shows them: `JOB.STEP|name` lines. */
export async function jobSteps(jobId: string): Promise<Array<{ stepId: string; name: string }>> {
  const out = (await run('squeue', ['-s', '-h', '-j', jobId, '-o', '%i|%j'])).stdout;
  return out.split('\n').filter((l) => l.trim()).map((l) => {
    const [stepId = '', name = ''] = l.trim().split('|');
    return { stepId, name };
  });
}

/** All target groups in a session's file_sd shards. */
export function fileSdGroups(configPath: string, sessionId: string): Array<{ targets: string[]; labels: Record<string, string> }> {
  const dir = path.join(path.dirname(configPath), 'file_sd', sessionId);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).flatMap((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Array<{ targets: string[]; labels: Record<string, string> }>);
}
