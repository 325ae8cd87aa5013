/**
 * `promtool check config` when promtool is present. Exit codes (cmd/promtool/main.go):
 * 0 ok, 1 invalid, 3 lint problems only (still a valid config).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type PromtoolResult = { ran: false; reason: string } | { ran: true; ok: boolean; output: string };

/** The executable promtool resolves to, or undefined when it is not installed. */
export function findExecutable(bin: string, envPath: string = process.env.PATH ?? ''): string | undefined {
  const candidates = bin.includes('/') ? [bin] : envPath.split(path.delimiter).filter(Boolean).map((d) => path.join(d, bin));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function promtoolCheckConfig(promtoolBin: string, configFile: string, timeoutMs = 30_000): Promise<PromtoolResult> {
  const exe = findExecutable(promtoolBin);
  if (!exe) return Promise.resolve({ ran: false, reason: `${promtoolBin} not found` });
  return new Promise((resolve) => {
    execFile(exe, ['check', 'config', '--lint=none', configFile], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (!err) return resolve({ ran: true, ok: true, output });
      const code = (err as unknown as { code?: number | string }).code;
      resolve({ ran: true, ok: code === 3, output: output || err.message });
    });
  });
}
