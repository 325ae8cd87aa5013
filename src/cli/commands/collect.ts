import fs from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import type { CollectProgress } from '../../collect/collector.js';
import type { CollectionSummary } from '../../collect/run-collection.js';
import type { CollectAnswer } from '../../client/api-client.js';
import { clientFor, globals } from '../context.js';
import { print, printJson, table } from '../output.js';
import { UsageError } from './targets.js';

/** A recipe argument is a built-in name, or a YAML file the CLI reads and sends inline (the server never reads client paths). */
export function recipeArgument(value: string | undefined): string | Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  const looksLikeFile = /\.ya?ml$/i.test(value) || value.includes('/');
  if (!looksLikeFile) return value;
  let text: string;
  try {
    text = fs.readFileSync(value, 'utf8');
  } catch (err) {
    throw new UsageError(`--recipe ${value}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const doc: unknown = YAML.parse(text);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`--recipe ${value}: not a YAML mapping`);
  return doc as Record<string, unknown>;
}

export function formatValue(v: number | null): string {
  if (v === null) return '';
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(5)));
}

export function kpiTable(c: CollectionSummary): string {
  return table(
    ['KPI', 'VALUE', 'UNIT', 'BOUNDS', 'COVERAGE', 'NOTE'],
    c.kpis.map((k) => [
      k.name,
      formatValue(k.value) || '(empty)',
      k.unit,
      k.lower_bound !== null || k.upper_bound !== null ? `${formatValue(k.lower_bound) || '-'}..${k.in_inf_bucket ? '+Inf' : formatValue(k.upper_bound)}` : '',
      k.coverage === null ? '' : `${(k.coverage * 100).toFixed(0)}%`,
      k.note ?? '',
    ]),
  );
}

/**
 * Per-phase results side by side: one row per KPI, its value over the whole window, then over
 * each phase (the unit once; an empty value is shown as "(empty)", its reason is in the manifest).
 */
export function phaseKpiTable(c: CollectionSummary): string {
  const phases = c.phases ?? [];
  return table(
    ['KPI', 'UNIT', 'WINDOW', ...phases.map((p) => p.name.toUpperCase())],
    c.kpis.map((k) => [
      k.name,
      k.unit,
      formatValue(k.value) || '(empty)',
      ...phases.map((p) => formatValue(p.kpis.find((x) => x.name === k.name)?.value ?? null) || '(empty)'),
    ]),
  );
}

/** `--phases all` or `--phases warmup,steady`. */
export function phasesArgument(value: string | undefined): string[] | 'all' | undefined {
  if (value === undefined) return undefined;
  if (value === 'all') return 'all';
  const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (names.length === 0) throw new UsageError(`--phases ${JSON.stringify(value)}: give "all" or phase names separated by commas`);
  return names;
}

/** A one-line progress bar on stderr, redrawn in place; only when stderr is a terminal. */
function progressBar(): { update(p: CollectProgress): void; done(): void } {
  if (!process.stderr.isTTY) return { update() {}, done() {} };
  return {
    update(p) {
      const width = 30;
      const filled = p.total > 0 ? Math.round((p.done / p.total) * width) : 0;
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} ${p.stage}${p.kpi ? ` ${p.kpi}` : ''}`.padEnd(100).slice(0, 100));
    },
    done() {
      process.stderr.write('\r'.padEnd(101) + '\r');
    },
  };
}

export function registerCollectCommand(program: Command): void {
  program
    .command('collect')
    .description('Collect a time window of a session: KPIs, data quality and artifacts')
    .requiredOption('--session <id>', 'session id')
    .option('--from-iso <time>', 'window start (RFC 3339 or Unix seconds)')
    .option('--to-iso <time>', 'window end (RFC 3339 or Unix seconds)')
    .option('--phase <name>', 'instead of --from-iso/--to-iso: the window is this phase of the session (see `benchmon phase`)')
    .option('--phases <all|a,b>', 'per-phase KPIs side by side: "all" phases in the window, or these; alone, the window spans them')
    .option('--out <dir>', 'parent directory for the collection, inside ARTIFACTS_ROOT')
    .option('--recipe <name|file>', 'built-in recipe (default, node, dcgm, vllm, qdrant) or a recipe YAML file')
    .option('--step <duration>', 'time-series step (default: the scrape interval)')
    .action(async (opts: { session: string; fromIso?: string; toIso?: string; phase?: string; phases?: string; out?: string; recipe?: string; step?: string }, cmd: Command) => {
      if ((opts.fromIso === undefined) !== (opts.toIso === undefined)) throw new UsageError(`${opts.fromIso === undefined ? '--from-iso' : '--to-iso'} is required with ${opts.fromIso === undefined ? '--to-iso' : '--from-iso'}`);
      if (opts.fromIso === undefined && opts.phase === undefined && opts.phases === undefined) throw new UsageError('give the window: --from-iso and --to-iso, or --phase NAME (or --phases to span phases)');
      const recipe = recipeArgument(opts.recipe);
      const phases = phasesArgument(opts.phases);
      const body = {
        ...(opts.fromIso !== undefined ? { start_time: opts.fromIso } : {}),
        ...(opts.toIso !== undefined ? { end_time: opts.toIso } : {}),
        ...(opts.phase !== undefined ? { phase: opts.phase } : {}),
        ...(phases !== undefined ? { phases } : {}),
        ...(opts.step ? { step: opts.step } : {}),
        ...(recipe !== undefined ? { recipe } : {}),
        ...(opts.out ? { output_dir: opts.out } : {}),
      };
      const bar = progressBar();
      let c: CollectAnswer;
      try {
        c = await clientFor(cmd).collect(opts.session, body, (p) => bar.update(p));
      } finally {
        bar.done();
      }
      if (globals(cmd).json) return printJson(c);
      print(`collection ${c.collection_id} of session ${c.session_id}, recipe ${c.recipe}, ${c.window.start} .. ${c.window.end} (step ${c.window.step})`);
      print(kpiTable(c));
      if (c.phases && c.phases.length > 0) {
        print('');
        print(`per phase: ${c.phases.map((p) => `${p.name} ${p.start} .. ${p.end}`).join('; ')}`);
        print(phaseKpiTable(c));
      }
      if (c.targets_down > 0) print(`${c.targets_down} target(s) were down during part of the window`);
      print(`artifacts: ${c.directory}`);
      for (const [name, file] of Object.entries(c.files)) print(`  ${name}  ${file}`);
      print(c.report !== null ? `  report.html  ${c.report}` : `  report.html  not written: ${c.report_error}`);
    });

  program
    .command('collections')
    .description('List the past collections of a session')
    .requiredOption('--session <id>', 'session id')
    .action(async (opts: { session: string }, cmd: Command) => {
      const { collections } = await clientFor(cmd).listCollections(opts.session);
      if (globals(cmd).json) return printJson(collections);
      print(table(['COLLECTION', 'RECIPE', 'START', 'END', 'KPIS', 'DIRECTORY'], collections.map((c) => [c.collection_id, c.recipe, c.window.start, c.window.end, c.kpis.length, c.directory])));
    });
}
