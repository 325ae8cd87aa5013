/**
 * The `benchmon` command: a client of the REST API (BENCHMON_URL / --url), plus `serve` that runs
 * the service. Only this layer exits the process; every failure prints one line and a non-zero code.
 */
import { Command, CommanderError } from 'commander';
import { BenchmonApiError } from '../client/api-client.js';
import { BENCHMON_VERSION } from '../version.js';
import { registerCollectCommand } from './commands/collect.js';
import { registerCompareCommand } from './commands/compare.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerGrafanaCommand } from './commands/grafana.js';
import { registerPhaseCommands } from './commands/phase.js';
import { registerPrometheusCommands } from './commands/prometheus.js';
import { registerReportCommand } from './commands/report.js';
import { registerServe } from './commands/serve.js';
import { registerSessionCommands } from './commands/sessions.js';
import { registerTargetCommands, UsageError } from './commands/targets.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

export function buildProgram(): Command {
  const program = new Command('benchmon')
    .description('Benchmark monitoring: sessions, targets, Prometheus, collections')
    .version(BENCHMON_VERSION)
    .option('--url <url>', 'benchmon API URL (env BENCHMON_URL)', process.env.BENCHMON_URL ?? 'http://127.0.0.1:8002')
    .option('--token <token>', 'API token (env BENCHMON_API_TOKEN)', process.env.BENCHMON_API_TOKEN)
    .option('--json', 'machine-readable output')
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  registerSessionCommands(program);
  registerTargetCommands(program);
  registerPrometheusCommands(program);
  registerCollectCommand(program);
  registerCompareCommand(program);
  registerPhaseCommands(program);
  registerReportCommand(program);
  registerDemoCommand(program);
  registerGrafanaCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`benchmon: ${err.message}\n`);
      process.exitCode = EXIT.USAGE;
      return;
    }
    const msg = err instanceof BenchmonApiError ? `${err.message}${err.status ? ` (${err.code}, HTTP ${err.status})` : ''}` : (err as Error).message;
    process.stderr.write(`benchmon: ${msg.split('\n')[0]}\n`);
    process.exitCode = exitCodeFor(err);
  }
}
