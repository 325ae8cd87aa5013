/**
 * `benchmon compare`: a candidate collection against a baseline, per KPI, optionally gated.
 *
 *     benchmon compare A B                       B against A
 *     benchmon compare A1 A2 A3 B                B against the baseline A1..A3 (their spread is the noise)
 *     benchmon compare B --baseline A1 A2 A3     the same
 *
 * The last positional collection is the candidate; every other one (positional or after
 * --baseline) joins the baseline. Each is a collection id (asked from the API) or a local
 * collection directory / MANIFEST.json (read here, no server needed: a CI job that downloaded
 * its artifacts). With only ids, the server compares (POST /api/v1/compare); otherwise the CLI
 * does, with the same engine (src/compare). Exit 1 when the gate fails, 2 for a bad gate file
 * or bad arguments.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { COLLECTION_ID_PATTERN } from '../../artifacts/manifest.js';
import { readComparableManifest } from '../../compare/comparable.js';
import { renderCompareHtml } from '../../compare/diff-report.js';
import { deltaText, directionText, formatNumber, noiseText, ratioText, verdictText } from '../../compare/format.js';
import { decodeGateYaml, gateSummaryLine, parseGateObject, type Gate } from '../../compare/gate.js';
import { DEFAULT_NOISE_K } from '../../compare/noise.js';
import { compareLoaded, type CompareResult, type LoadedCollection } from '../../compare/run-compare.js';
import { isBenchmonError } from '../../errors.js';
import { atomicWriteFile } from '../../fs/atomic-write.js';
import type { BenchmonClient } from '../../client/api-client.js';
import { clientFor, globals } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { print, printJson, table } from '../output.js';
import { UsageError } from './targets.js';

type Ref = { kind: 'dir'; path: string } | { kind: 'id'; id: string };

function classify(ref: string): Ref {
  if (fs.existsSync(ref)) return { kind: 'dir', path: ref };
  if (new RegExp(COLLECTION_ID_PATTERN).test(ref)) return { kind: 'id', id: ref };
  throw new UsageError(`${ref}: neither a collection directory (or its MANIFEST.json) nor a collection id (like 20261129T090000Z-1a2b3c4d)`);
}

function readGate(file: string): { gate: Gate; document: unknown } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--gate ${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const document = decodeGateYaml(text);
    return { gate: parseGateObject(document, ''), document };
  } catch (err) {
    if (isBenchmonError(err)) throw new UsageError(`--gate ${file}: ${err.message}`);
    throw err;
  }
}

async function loadRef(ref: Ref, client: BenchmonClient): Promise<LoadedCollection> {
  if (ref.kind === 'id') {
    const c = await client.getCollection(ref.id);
    return { manifest: c.manifest_content, source: c.directory };
  }
  try {
    const { manifest, file } = await readComparableManifest(ref.path);
    return { manifest, source: path.dirname(path.resolve(file)) };
  } catch (err) {
    if (isBenchmonError(err)) throw new UsageError(err.message);
    throw err;
  }
}

export function compareTable(r: CompareResult): string {
  return table(
    ['KPI', 'UNIT', 'A', 'B', 'Δ', 'RATIO', 'DIRECTION', 'NOISE', 'VERDICT', 'GATE'],
    r.kpis.map((k) => [
      k.name,
      k.unit,
      formatNumber(k.baseline),
      formatNumber(k.candidate),
      deltaText(k),
      ratioText(k),
      directionText(k),
      noiseText(k),
      verdictText(k),
      k.gate === null ? '' : k.gate.status === 'fail' ? 'FAIL' : k.gate.status,
    ]),
  );
}

function describeSide(label: string, c: CompareResult['candidate']): string {
  return `${label} ${c.collection_id}  session ${c.session_id}  ${c.window.start} .. ${c.window.end}${c.recipe ? `  recipe ${c.recipe}` : ''}`;
}

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('Compare a candidate collection (the last one given) with a baseline of one or more collections; --gate turns it into a CI check (exit 1 on a regression)')
    .argument('<collections...>', 'collection ids or local collection directories: baseline ... candidate')
    .option('--baseline <collections...>', 'more baseline collections (then one positional collection, the candidate, is enough)')
    .option('--gate <file>', 'gate file (YAML): allowed change or limits per KPI; exit 1 when a gated KPI is past its limit')
    .option('--phase <name>', "compare this phase's KPIs instead of the whole window's")
    .option('--noise-k <k>', 'k of the noise band mean ± k·stddev of the baseline runs', String(DEFAULT_NOISE_K))
    .option('--html <file>', 'also write a self-contained HTML diff report')
    .action(async (collections: string[], opts: { baseline?: string[]; gate?: string; phase?: string; noiseK: string; html?: string }, cmd: Command) => {
      const all = [...collections];
      const candidateArg = all.pop()!;
      const baselineArgs = [...all, ...(opts.baseline ?? [])];
      if (baselineArgs.length === 0) throw new UsageError('give a baseline: `benchmon compare A B` (B against A) or `benchmon compare B --baseline A1 A2`');
      const noiseK = Number(opts.noiseK);
      if (!Number.isFinite(noiseK) || noiseK < 0 || noiseK > 10) throw new UsageError(`--noise-k ${JSON.stringify(opts.noiseK)}: expected a number from 0 to 10`);
      const gate = opts.gate === undefined ? null : readGate(opts.gate);
      const candidate = classify(candidateArg);
      const baseline = baselineArgs.map(classify);
      const client = clientFor(cmd);

      let result: CompareResult;
      if (candidate.kind === 'id' && baseline.every((b) => b.kind === 'id')) {
        result = await client.compare({
          candidate: candidate.id,
          baseline: baseline.map((b) => (b as { id: string }).id),
          ...(gate ? { gate: gate.document } : {}),
          ...(opts.phase !== undefined ? { phase: opts.phase } : {}),
          noise_k: noiseK,
        });
      } else {
        const loaded = await Promise.all([candidate, ...baseline].map((r) => loadRef(r, client)));
        const ids = loaded.map((l) => l.manifest.collection_id);
        const twice = ids.find((id, i) => ids.indexOf(id) !== i);
        if (twice !== undefined) throw new UsageError(`collection ${twice} is given twice`);
        try {
          result = compareLoaded(loaded[0]!, loaded.slice(1), { gate: gate?.gate ?? null, phase: opts.phase ?? null, noiseK });
        } catch (err) {
          if (isBenchmonError(err)) throw new UsageError(err.message);
          throw err;
        }
      }

      const json = globals(cmd).json === true;
      let htmlFile: string | undefined;
      if (opts.html !== undefined) {
        htmlFile = path.resolve(opts.html);
        await atomicWriteFile(htmlFile, renderCompareHtml(result));
      }
      if (json) {
        printJson(result);
        if (htmlFile) process.stderr.write(`HTML report: ${htmlFile}\n`);
      }
      else {
        print(describeSide('B (candidate):', result.candidate));
        result.baseline.forEach((b, i) => print(describeSide(result.baseline.length > 1 ? `A${i + 1} (baseline):` : 'A (baseline): ', b)));
        if (result.phase !== null) print(`phase: ${result.phase}`);
        print(compareTable(result));
        print(Object.entries(result.summary).map(([v, n]) => `${n} ${v.replace(/_/g, ' ')}`).join(', '));
        if (result.baseline.length === 1) print('one baseline run: no noise estimate (give several baseline collections to judge changes against their spread)');
        if (result.gate) print(gateSummaryLine(result.gate));
        if (htmlFile) print(`HTML report: ${htmlFile}`);
      }
      if (result.gate && !result.gate.passed) process.exitCode = EXIT.GATE_FAILED;
    });
}
