import path from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from '../../prometheus/duration.js';
import { print, printJson } from '../output.js';
import { globals } from '../context.js';
import { kpiTable } from './collect.js';
import { UsageError } from './targets.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Run the whole job on this machine: benchmon + Prometheus + node_exporter + an emulated vLLM/Qdrant workload, then collect and print KPIs')
    .option('--duration <duration>', 'how long the emulated workload runs', '60s')
    .option('--session <id>', 'session id (default demo-<time>)')
    .action(async (opts: { duration: string; session?: string }, cmd: Command) => {
      const durationMs = parseDuration(opts.duration);
      if (durationMs === undefined || durationMs < 5000) throw new UsageError(`--duration ${JSON.stringify(opts.duration)}: expected a duration of at least 5s, e.g. 60s`);
      const json = globals(cmd).json === true;
      const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
      const abort = new AbortController();
      const onSigint = () => {
        log('stopping the load early …');
        abort.abort();
      };
      process.once('SIGINT', onSigint);
      const { runDemo } = await import('../../demo/run-demo.js');
      try {
        const result = await runDemo({
          durationMs,
          artifactsRoot: path.resolve(process.env.ARTIFACTS_ROOT || 'artifacts'),
          ...(opts.session ? { sessionId: opts.session } : {}),
          log,
          signal: abort.signal,
        });
        if (json) return printJson(result);
        print(`\nload: vLLM ${result.load.vllm.ok}/${result.load.vllm.sent} ok, Qdrant ${result.load.qdrant.ok}/${result.load.qdrant.sent} ok`);
        for (const c of result.collections) {
          print(`\n== ${c.recipe} (${c.kpis.filter((k) => k.value !== null).length}/${c.kpis.length} KPIs with a value)`);
          print(kpiTable(c));
          print(`artifacts: ${c.directory}`);
          if (c.report !== null) print(`report:    ${c.report} (open it in a browser)`);
        }
        const empty = result.collections.filter((c) => !c.kpis.some((k) => k.value !== null));
        if (empty.length > 0) {
          process.stderr.write(`benchmon: no KPI values for ${empty.map((c) => c.recipe).join(', ')}\n`);
          process.exitCode = 1;
        }
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
