/**
 * Process plumbing the benchmarks share: the progress log on stderr, and the CPU time /proc reports for a process
 * they measure (Linux only, as the benchmarks are).
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Clock ticks per second of the times in /proc/<pid>/stat (USER_HZ: 100 on Linux). */
export const CLK_TCK = 100;

/** A progress log: `[  12.3s] msg` on stderr, in seconds since `started` (a performance.now() reading). */
export function progressLog(started: number): (msg: string) => void {
  return (msg) => {
    const t = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${t}s] ${msg}\n`);
  };
}

export interface CpuTicks {
  /** The process's own user and system time. */
  readonly utime: number;
  readonly stime: number;
  /** Its waited-for children's user and system time. */
  readonly cutime: number;
  readonly cstime: number;
}

/** CPU times from /proc/<pid>/stat, in clock ticks (CLK_TCK). Throws when there is no such process. */
export function cpuTicks(pid: number | 'self'): CpuTicks {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count the fields after its `)`.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { utime: Number(fields[11]), stime: Number(fields[12]), cutime: Number(fields[13]), cstime: Number(fields[14]) };
}

/** CPU time (user + system) a process has used so far, in ms; NaN without a pid or once the process is gone. */
export function cpuMs(pid: number | null | undefined): number {
  if (!pid) return NaN;
  try {
    const { utime, stime } = cpuTicks(pid);
    return ((utime + stime) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}
