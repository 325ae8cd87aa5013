import type { Command } from 'commander';
import { loadSettings, SettingsError } from '../../settings/settings.js';
import { describeError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the benchmon service: REST API (BENCHMON_PORT, default 8002) and its Prometheus (PROMETHEUS_MODE, default local)')
    .action(async () => {
      let settings;
      try {
        settings = loadSettings();
      } catch (err) {
        process.stderr.write(`benchmon: ${err instanceof SettingsError ? err.message : describeError(err)}\n`);
        process.exit(EXIT.USAGE);
      }
      let running;
      try {
        // Loaded here, not at the top: every other command is a small API client and should not
        // pay for loading Fastify, SQLite and the rest of the service on each run.
        const { startBenchmon } = await import('../../server.js');
        running = await startBenchmon(settings);
      } catch (err) {
        process.stderr.write(`benchmon: start-up failed: ${describeError(err)}\n`);
        process.exit(EXIT.FAILURE);
      }
      running.app.log.info({ url: running.url, prometheus: settings.PROMETHEUS_URL, mode: settings.PROMETHEUS_MODE }, 'benchmon ready');
      const shutdown = (signal: string) => {
        running.app.log.info({ signal }, 'shutting down');
        running.close().then(
          () => process.exit(EXIT.OK),
          (err: unknown) => {
            process.stderr.write(`benchmon: shutdown failed: ${describeError(err)}\n`);
            process.exit(EXIT.FAILURE);
          },
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
}
