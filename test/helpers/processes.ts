/**
 * Process helpers for tests that run benchmon (or the CLI) as a user would: run a command to its
 * exit, find the Prometheus processes that run a given config file, check and end them by pid.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { BENCHMON_BIN } from './harness.js';

export interface Finished { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** The environment of this process without the variables that would leak into a child's settings. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^(BENCHMON_|PROMETHEUS_|PROMTOOL_|DEFAULT_SCRAPE_|SERVER_API_URL|ARTIFACTS_ROOT|DEPLOYMENT_MODE|LOG_LEVEL)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs `node bin/benchmon.js <args>` to its exit (killed after timeoutMs, which then fails the caller's assertions). */
export function runBenchmon(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCHMON_BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by its parent) counts as gone.
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Pids of live processes whose command line contains `--config.file=<configPath>`. */
export function prometheusPidsFor(configPath: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.split('\0').includes(`--config.file=${configPath}`) && pidAlive(Number(name))) pids.push(Number(name));
  }
  return pids;
}

/** SIGKILLs the given pids (ours: found by our unique temp config path) and waits until they are gone. */
export async function killPids(pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000;
  while (pids.some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}
