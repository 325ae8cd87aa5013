import type { Command } from 'commander';
import type { QueryResult } from '../../prometheus/client.js';
import { clientFor, globals } from '../context.js';
import { print, printJson, table } from '../output.js';

function labelText(metric: Record<string, string>): string {
  const name = metric.__name__ ?? '';
  const rest = Object.entries(metric).filter(([k]) => k !== '__name__').map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}{${rest.join(', ')}}`;
}

function printResult(r: QueryResult): void {
  switch (r.resultType) {
    case 'vector':
      print(table(['SERIES', 'VALUE'], r.result.map((s) => [labelText(s.metric), s.value[1]])));
      break;
    case 'matrix':
      print(table(['SERIES', 'SAMPLES', 'LAST'], r.result.map((s) => [labelText(s.metric), s.values.length, s.values.at(-1)?.[1]])));
      break;
    default:
      print(String(r.result[1]));
  }
}

export function registerPrometheusCommands(program: Command): void {
  program
    .command('prom-targets')
    .description("Prometheus's active targets, as it sees them")
    .option('--session <id>', 'only this session')
    .action(async (opts: { session?: string }, cmd: Command) => {
      const r = await clientFor(cmd).prometheusTargets('active');
      const active = r.activeTargets.filter((t) => !opts.session || t.labels.session === opts.session);
      if (globals(cmd).json) return printJson(active);
      print(table(['POOL', 'JOB', 'INSTANCE', 'SESSION', 'HEALTH', 'LAST_SCRAPE', 'ERROR'], active.map((t) => [t.scrapePool, t.labels.job, t.labels.instance, t.labels.session, t.health, t.lastScrape, t.lastError || null])));
    });

  program
    .command('query')
    .description('Run a PromQL query (instant, or range with --start/--end/--step)')
    .argument('<promql>', 'PromQL expression')
    .option('--time <t>', 'evaluation time (RFC 3339 or Unix seconds)')
    .option('--start <t>', 'range start')
    .option('--end <t>', 'range end')
    .option('--step <duration>', 'range step', '15s')
    .action(async (promql: string, opts: { time?: string; start?: string; end?: string; step: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const r = opts.start || opts.end
        ? await client.queryRange(promql, opts.start ?? String(Date.now() / 1000 - 300), opts.end ?? String(Date.now() / 1000), opts.step)
        : await client.query(promql, opts.time);
      if (globals(cmd).json) return printJson(r);
      printResult(r);
    });
}
