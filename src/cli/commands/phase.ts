import type { Command } from 'commander';
import type { Phase } from '../../collect/phases.js';
import { clientFor, globals } from '../context.js';
import { print, printJson, table } from '../output.js';

/** Seconds between two RFC 3339 times, one decimal; null for an open phase. */
export function phaseDuration(p: Pick<Phase, 'start_time' | 'end_time'>): string | null {
  if (p.end_time === null) return null;
  return `${((Date.parse(p.end_time) - Date.parse(p.start_time)) / 1000).toFixed(1)} s`;
}

export function phaseTable(phases: readonly Phase[]): string {
  return table(
    ['PHASE', 'START', 'END', 'DURATION', 'STATE'],
    phases.map((p) => [p.name, p.start_time, p.end_time ?? '-', phaseDuration(p) ?? '-', p.end_time === null ? 'open' : 'ended']),
  );
}

export function registerPhaseCommands(program: Command): void {
  const phase = program
    .command('phase')
    .description('Benchmark phases (warmup, steady, cooldown, …): mark them, then collect by phase (collect --phase) or per phase (collect --phases)');

  phase
    .command('start <name>')
    .description('Mark the start of a phase (now, or --at); it stays open until `phase end`')
    .requiredOption('--session <id>', 'session id')
    .option('--at <time>', 'start time (RFC 3339 or Unix seconds; default now)')
    .option('--end-at <time>', 'end time too, for a phase marked after the fact')
    .action(async (name: string, opts: { session: string; at?: string; endAt?: string }, cmd: Command) => {
      const p = await clientFor(cmd).markPhase(opts.session, { name, ...(opts.at ? { start_time: opts.at } : {}), ...(opts.endAt ? { end_time: opts.endAt } : {}) });
      if (globals(cmd).json) return printJson(p);
      print(`phase ${p.name} of session ${p.session_id} started at ${p.start_time}${p.end_time ? `, ended at ${p.end_time} (${phaseDuration(p)})` : ''}`);
    });

  phase
    .command('end <name>')
    .description('Mark the end of an open phase (now, or --at)')
    .requiredOption('--session <id>', 'session id')
    .option('--at <time>', 'end time (RFC 3339 or Unix seconds; default now)')
    .action(async (name: string, opts: { session: string; at?: string }, cmd: Command) => {
      const p = await clientFor(cmd).endPhase(opts.session, name, opts.at ? { end_time: opts.at } : {});
      if (globals(cmd).json) return printJson(p);
      print(`phase ${p.name} of session ${p.session_id} ended at ${p.end_time} (${phaseDuration(p)})`);
    });

  phase
    .command('list')
    .description('List the phases of a session')
    .requiredOption('--session <id>', 'session id')
    .action(async (opts: { session: string }, cmd: Command) => {
      const { phases } = await clientFor(cmd).listPhases(opts.session);
      if (globals(cmd).json) return printJson(phases);
      print(phaseTable(phases));
    });

  phase
    .command('delete <name>')
    .description('Delete a phase (collections made with it keep it in their manifests)')
    .requiredOption('--session <id>', 'session id')
    .action(async (name: string, opts: { session: string }, cmd: Command) => {
      const { deleted } = await clientFor(cmd).deletePhase(opts.session, name);
      if (globals(cmd).json) return printJson(deleted);
      print(`phase ${deleted.name} of session ${deleted.session_id} deleted`);
    });
}
