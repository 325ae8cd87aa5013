/**
 * Runs one Slurm command with a timeout and turns every way it can fail into a BenchmonError that
 * names the command and keeps Slurm's own message:
 *  - binary (or the wrapper) missing, not executable, `command not found` behind a wrapper,
 *    no answer within the timeout, or slurmctld unreachable → SLURM_UNAVAILABLE (503);
 *  - any other non-zero exit → SLURM_COMMAND_FAILED (502) with stderr.
 *
 * Where the commands live is configurable: a directory (`binDir`, e.g. /opt/slurm/bin) and/or a
 * prefix the command line is run through (`['ssh', 'login01']`, `['sudo', '-u', 'bench']`,
 * `['apptainer', 'exec', 'slurm.sif']`). ssh hands its arguments to a remote shell, so with ssh the
 * command line is shell-quoted into one argument.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { BenchmonError } from '../errors.js';
import { isControllerUnreachable } from './parsers.js';

export interface SlurmCommandConfig {
  /** Directory holding sbatch, squeue, …; default: looked up on PATH (or on the far side of the prefix). */
  binDir?: string;
  /** Run every command through this (e.g. `['ssh', '-o', 'BatchMode=yes', 'login01']`). */
  prefix?: readonly string[];
  /** Quote the command line into one shell word string after the prefix; default: true when the prefix is ssh. */
  shellQuote?: boolean;
  /**
   * Timeout of each call in ms (default 30 s). Slurm's clients report an unreachable slurmctld only
   * after ~9 s (scontrol ~18 s): a timeout above that keeps Slurm's own message.
   */
  timeoutMs?: number;
  /** Environment of the commands (default: this process's), e.g. to set SLURM_CONF. */
  env?: NodeJS.ProcessEnv;
}

export interface CommandResult {
  /** The command line as run, for messages (`squeue --json`, `ssh login01 scancel 42`). */
  display: string;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin (sbatch reads its script there). */
  input?: string;
  timeoutMs?: number;
  /** Exit codes that are not failures (the caller reads stderr itself). */
  acceptExitCodes?: readonly number[];
}

export const DEFAULT_SLURM_TIMEOUT_MS = 30_000;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** POSIX shell quoting: safe words stay as they are, anything else goes in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `ssh login01` → `['ssh', 'login01']` (whitespace-separated; for settings such as SLURM_COMMAND_PREFIX). */
export function parseCommandPrefix(text: string | undefined): string[] {
  return (text ?? '').trim().split(/\s+/).filter((w) => w.length > 0);
}

/** Slurm's message without its noise: trimmed, at most a few lines. */
function excerpt(text: string, maxChars = 2000): string {
  const t = text.trim();
  return t.length > maxChars ? `${t.slice(0, maxChars)}…` : t;
}

export class SlurmCommandRunner {
  readonly timeoutMs: number;
  /** The environment commands run with. */
  readonly env: NodeJS.ProcessEnv;
  private readonly prefix: readonly string[];
  private readonly quote: boolean;

  constructor(private readonly config: SlurmCommandConfig = {}) {
    this.timeoutMs = config.timeoutMs ?? DEFAULT_SLURM_TIMEOUT_MS;
    this.env = config.env ?? process.env;
    this.prefix = config.prefix ?? [];
    this.quote = config.shellQuote ?? (this.prefix.length > 0 && path.basename(this.prefix[0] ?? '') === 'ssh');
  }

  /** The argv that runs `command args…` (with binDir and prefix applied). */
  argv(command: string, args: readonly string[]): string[] {
    const exe = this.config.binDir ? path.posix.join(this.config.binDir, command) : command;
    if (this.prefix.length === 0) return [exe, ...args];
    if (this.quote) return [...this.prefix, [exe, ...args].map(shellQuote).join(' ')];
    return [...this.prefix, exe, ...args];
  }

  run(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const argv = this.argv(command, args);
    const display = [...this.prefix, command, ...args].join(' ');
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const [file = command, ...rest] = argv;
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      let bytes = 0;
      let settled = false;
      let timedOut = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const child = spawn(file, rest, { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const collect = (which: 'out' | 'err') => (d: Buffer) => {
        bytes += d.length;
        if (bytes > MAX_OUTPUT_BYTES) {
          child.kill('SIGKILL');
          finish(() => reject(new BenchmonError('SLURM_COMMAND_FAILED', `${display}: output exceeds ${MAX_OUTPUT_BYTES} bytes`)));
          return;
        }
        if (which === 'out') stdout += d.toString();
        else stderr += d.toString();
      };
      child.stdout.on('data', collect('out'));
      child.stderr.on('data', collect('err'));
      // A command that exits without reading stdin makes the write fail with EPIPE; its exit says why.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input ?? '');
      child.once('error', (err: NodeJS.ErrnoException) => {
        const where = this.config.binDir ? `in ${this.config.binDir}` : 'on PATH';
        const reason =
          err.code === 'ENOENT'
            ? `${file} not found ${file.includes('/') ? '' : where} (install slurm-client, or configure the Slurm command directory/prefix)`.replace(/ {2,}/g, ' ')
            : err.code === 'EACCES'
              ? `${file} is not executable`
              : err.message;
        finish(() => reject(new BenchmonError('SLURM_UNAVAILABLE', `${display}: ${reason}`, { details: { command: display }, cause: err })));
      });
      child.once('close', (code, signal) => {
        finish(() => {
          if (timedOut) {
            reject(
              new BenchmonError(
                'SLURM_UNAVAILABLE',
                `${display}: no answer within ${timeoutMs} ms (is slurmctld reachable?)${stderr.trim() ? `: ${excerpt(stderr)}` : ''}`,
                { details: { command: display } },
              ),
            );
            return;
          }
          if (code === 0 || (code !== null && options.acceptExitCodes?.includes(code))) {
            resolve({ display, stdout, stderr });
            return;
          }
          const message = excerpt(stderr) || excerpt(stdout) || (signal ? `killed by ${signal}` : 'no output');
          const status = code === null ? `signal ${signal}` : `exit ${code}`;
          // 127: the shell behind a wrapper (ssh) did not find the command.
          const unavailable = isControllerUnreachable(message) || code === 127 || /command not found/.test(message);
          reject(
            new BenchmonError(unavailable ? 'SLURM_UNAVAILABLE' : 'SLURM_COMMAND_FAILED', `${display} failed (${status}): ${message}`, {
              details: { command: display, exit_code: code, stderr: excerpt(stderr) },
            }),
          );
        });
      });
    });
  }
}
