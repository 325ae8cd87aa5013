/**
 * bench/slurm — Slurm-hosted targets against the REAL single-node Slurm (scripts/slurm/start.sh)
 * and a real local Prometheus (issue 4, "Benchmark").
 *
 * (1) Time from `sbatch` of a service job to its target being `up` in Prometheus, split into
 *     - Slurm's own start: sbatch → the job RUNNING as seen by squeue (polled every 50 ms),
 *     - benchmon's resolution: RUNNING → the job's endpoint in the session's file_sd (polled every
 *       20 ms; the job tracker polls squeue every SLURM_POLL_INTERVAL),
 *     - Prometheus: file_sd → target up (discovery, batched every 5 s, + first scrape; polled
 *       every 100 ms on /api/v1/targets).
 *     The job is registered right after sbatch (while PENDING), as a benchmark script would.
 *     Also: the registration answer time for a PENDING job and for a RUNNING one.
 * (2) The cost of tracking 100 jobs: 100 jobs registered by id (8 run at once on the test node's
 *     8 CPUs, the rest wait PENDING), then for BENCH_TRACK_S seconds: Slurm commands run by
 *     benchmon per minute, benchmon's CPU (its own and its Slurm child processes'), and the
 *     duration of one tracking round.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/slurm.js
 * Knobs: BENCH_SAMPLES (8), BENCH_TRACK_JOBS (100), BENCH_TRACK_S (60), SLURM_POLL_INTERVAL (2s),
 * BENCH_JSON (write results here). A benchmark, not a test: exits 0 whether the goal is met or not.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { freePort } from '../src/net/free-port.js';
import { startBenchmon, type RunningBenchmon } from '../src/server.js';
import { parseDuration } from '../src/prometheus/duration.js';
import { loadSettings } from '../src/settings/settings.js';
import { SlurmCommands } from '../src/slurm/commands.js';
import { CLK_TCK, cpuTicks } from './bench-process.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 8);
const TRACK_JOBS = Number(process.env.BENCH_TRACK_JOBS ?? 100);
const TRACK_S = Number(process.env.BENCH_TRACK_S ?? 60);
const POLL = process.env.SLURM_POLL_INTERVAL ?? '2s';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sh(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(file, args, { timeout: 20_000 }, (err, out, errOut) => (err ? reject(new Error(errOut || err.message)) : resolve(out))));
}

/** Children's CPU seconds (cutime + cstime of /proc/self/stat): the Slurm commands benchmon ran and reaped. */
function childCpuSeconds(): number {
  const { cutime, cstime } = cpuTicks('self');
  return (cutime + cstime) / CLK_TCK;
}

function stats(xs: number[]): { median: number; p90: number; min: number; max: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))] ?? NaN;
  return { median: q(0.5), p90: q(0.9), min: s[0] ?? NaN, max: s.at(-1) ?? NaN, mean: s.reduce((a, b) => a + b, 0) / (s.length || 1) };
}

const SERVER_JS = `
import http from 'node:http';
const body = '# TYPE bench_up gauge\\nbench_up 1\\n';
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }); res.end(body); }).listen(Number(process.argv[2]), '0.0.0.0');
`;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-bench-slurm-'));
  fs.writeFileSync(path.join(dir, 'serve.mjs'), SERVER_JS);
  const slurm = new SlurmCommands();
  const submitted: string[] = [];
  const env = {
    BENCHMON_STATE_DIR: path.join(dir, 'state'),
    ARTIFACTS_ROOT: path.join(dir, 'artifacts'),
    BENCHMON_HOST: '127.0.0.1',
    BENCHMON_PORT: String(await freePort()),
    PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}`,
    DEFAULT_SCRAPE_INTERVAL: '1s',
    DEFAULT_SCRAPE_TIMEOUT: '1s',
    SLURM_POLL_INTERVAL: POLL,
    LOG_LEVEL: 'silent',
  };
  const settings = loadSettings(env);
  let bm: RunningBenchmon | undefined;
  const results: Record<string, unknown> = { poll_interval: POLL };
  try {
    await sh('sinfo', ['-h', '-o', '%t']);
    bm = await startBenchmon(settings, pino({ level: 'silent' }));
    const api = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${bm!.url}${p}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : null });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    await api('POST', '/api/v1/sessions', { session_id: 'bench' });
    const shardDir = path.join(path.dirname(settings.PROMETHEUS_CONFIG_PATH), 'file_sd', 'bench');
    const inFileSd = (jobId: string) =>
      fs.existsSync(shardDir) &&
      fs.readdirSync(shardDir).some((f) => fs.readFileSync(path.join(shardDir, f), 'utf8').includes(`"slurm_job_id":"${jobId}"`));
    const script = (port: number) => `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(dir, 'serve.mjs'))} ${port}\n`;

    // Warm-up: the first job after slurmctld starts waits for the first scheduler pass.
    const warm = await slurm.submit('#!/bin/sh\ntrue\n', { chdir: dir, output: '/dev/null' });
    submitted.push(warm);
    await sleep(3500);

    // (1) sbatch → up, split.
    const rows: Array<Record<string, number>> = [];
    for (let i = 0; i < SAMPLES; i++) {
      const port = await freePort();
      const t0 = performance.now();
      const jobId = await slurm.submit(script(port), { jobName: 'bench-svc', chdir: dir, output: '/dev/null' });
      submitted.push(jobId);
      const tSbatch = performance.now();
      const regStart = performance.now();
      await api('POST', '/api/v1/sessions/bench/targets', { target_type: 'svc', slurm: { job_id: jobId, port } });
      const regMs = performance.now() - regStart;
      let tRunning = 0;
      let tFileSd = 0;
      let tUp = 0;
      const deadline = t0 + 60_000;
      const squeuePoll = (async () => {
        while (!tRunning && performance.now() < deadline) {
          const st = (await sh('squeue', ['-h', '-j', jobId, '-o', '%T']).catch(() => '')).trim();
          if (st === 'RUNNING') tRunning = performance.now();
          else await sleep(50);
        }
      })();
      const filePoll = (async () => {
        while (!tFileSd && performance.now() < deadline) {
          if (inFileSd(jobId)) tFileSd = performance.now();
          else await sleep(20);
        }
      })();
      const promPoll = (async () => {
        while (!tUp && performance.now() < deadline) {
          const r = (await (await fetch(`${settings.PROMETHEUS_URL}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Array<{ labels: Record<string, string>; health: string }> } };
          if (r.data.activeTargets.some((a) => a.labels.slurm_job_id === jobId && a.health === 'up')) tUp = performance.now();
          else await sleep(100);
        }
      })();
      await Promise.all([squeuePoll, filePoll, promPoll]);
      if (!tRunning || !tFileSd || !tUp) throw new Error(`sample ${i}: job ${jobId} did not come up within 60 s`);
      const row = {
        sbatch_ms: tSbatch - t0,
        register_pending_ms: regMs,
        slurm_start_ms: tRunning - t0,
        benchmon_ms: Math.max(0, tFileSd - tRunning),
        prometheus_ms: tUp - Math.max(tFileSd, tRunning),
        total_ms: tUp - t0,
      };
      rows.push(row);
      process.stderr.write(`sample ${i + 1}/${SAMPLES}: ${Object.entries(row).map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' ')}\n`);
      await slurm.cancel(jobId);
    }
    // Registration of a job that already runs: the resolution itself (squeue --json + scontrol on a new node list).
    const regRunning: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const jobId = await slurm.submit('#!/bin/sh\nsleep 300\n', { jobName: 'bench-run', chdir: dir, output: '/dev/null' });
      submitted.push(jobId);
      while ((await slurm.job(jobId)).state !== 'RUNNING') await sleep(100);
      const t = performance.now();
      await api('POST', '/api/v1/sessions/bench/targets', { target_type: 'run', slurm: { job_id: jobId, port: 9 } });
      regRunning.push(performance.now() - t);
      await slurm.cancel(jobId);
    }
    const split = Object.fromEntries(Object.keys(rows[0] ?? {}).map((k) => [k, stats(rows.map((r) => r[k]!))]));
    const share = rows.map((r) => r.benchmon_ms! / r.total_ms!);
    results.sbatch_to_up = { samples: rows, split, register_running_ms: stats(regRunning), benchmon_share: stats(share) };

    // (2) Tracking cost of TRACK_JOBS jobs.
    await api('POST', '/api/v1/sessions', { session_id: 'track' });
    const trackIds: string[] = [];
    for (let i = 0; i < TRACK_JOBS; i++) {
      const jobId = await slurm.submit('#!/bin/sh\nsleep 600\n', { jobName: 'bench-track', chdir: dir, output: '/dev/null' });
      submitted.push(jobId);
      trackIds.push(jobId);
    }
    await sleep(2000);
    for (const jobId of trackIds) await api('POST', '/api/v1/sessions/track/targets', { target_type: 'track', slurm: { job_id: jobId, port: 9 } });
    const runner = bm.service.slurm.runner;
    const calls = new Map<string, number>();
    const original = runner.run.bind(runner);
    runner.run = (command, args, options) => {
      const key = `${command} ${args[0] ?? ''}`.trim();
      calls.set(key, (calls.get(key) ?? 0) + 1);
      return original(command, args, options);
    };
    await sleep(3000); // one round with the 100 registered, so node lists are cached as in steady state
    calls.clear();
    const cpu0 = process.cpuUsage();
    const child0 = childCpuSeconds();
    const polls0 = bm.service.slurmTracker.status().polls;
    const roundMs: number[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < TRACK_S * 1000) {
      await sleep(500);
      const st = bm.service.slurmTracker.status();
      if (st.last_poll_ms !== null) roundMs.push(st.last_poll_ms);
    }
    const elapsedS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const child = childCpuSeconds() - child0;
    const status = bm.service.slurmTracker.status();
    const perMin = Object.fromEntries([...calls].map(([k, v]) => [k, Math.round((v * 60) / elapsedS)]));
    const running = (await api('GET', '/api/v1/sessions/track/targets')) as { targets: Array<{ slurm: { state: string } }> };
    const states: Record<string, number> = {};
    for (const t of running.targets) states[t.slurm.state] = (states[t.slurm.state] ?? 0) + 1;
    results.tracking = {
      jobs: TRACK_JOBS,
      job_states: states,
      seconds: elapsedS,
      rounds: status.polls - polls0,
      slurm_calls_per_minute: perMin,
      naive_calls_per_minute_one_squeue_per_job: Math.round((TRACK_JOBS * 60_000) / parseDuration(settings.SLURM_POLL_INTERVAL)!),
      round_ms: stats(roundMs),
      benchmon_cpu_percent: ((cpu.user + cpu.system) / 1e6 / elapsedS) * 100,
      slurm_commands_cpu_percent: (child / elapsedS) * 100,
    };
  } finally {
    await bm?.close().catch(() => undefined);
    for (const id of submitted) await slurm.cancel(id).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const out = JSON.stringify(results, null, 2);
  process.stdout.write(`${out}\n`);
  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, out);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/slurm: could not measure: ${(err as Error).message}\n`);
  process.exit(1);
});
