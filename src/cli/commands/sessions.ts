import type { Command } from 'commander';
import { clientFor, globals } from '../context.js';
import { print, printJson, table } from '../output.js';
import { parseLabels } from './targets.js';

export function registerSessionCommands(program: Command): void {
  program
    .command('session-create')
    .description('Create a session')
    .requiredOption('--session <id>', 'session id')
    .option('--label <k=v>', 'label put on every series of the session (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--scrape-interval <duration>', 'default scrape interval of the session, e.g. 5s')
    .action(async (opts: { session: string; label: string[]; scrapeInterval?: string }, cmd: Command) => {
      const body = { session_id: opts.session, ...(opts.label.length ? { labels: parseLabels(opts.label) } : {}), ...(opts.scrapeInterval ? { scrape_interval: opts.scrapeInterval } : {}) };
      const s = await clientFor(cmd).createSession(body);
      if (globals(cmd).json) printJson(s);
      else print(`session ${s.session_id} created`);
    });

  program
    .command('session-list')
    .description('List sessions')
    .action(async (_opts: unknown, cmd: Command) => {
      const { sessions } = await clientFor(cmd).listSessions();
      if (globals(cmd).json) return printJson(sessions);
      print(table(['SESSION', 'TARGETS', 'SCRAPE_INTERVAL', 'CREATED'], sessions.map((s) => [s.session_id, s.target_count, s.scrape_interval, s.created_at])));
    });

  program
    .command('status')
    .description('Show a session: its targets with live health')
    .requiredOption('--session <id>', 'session id')
    .action(async (opts: { session: string }, cmd: Command) => {
      const st = await clientFor(cmd).sessionStatus(opts.session);
      if (globals(cmd).json) return printJson(st);
      print(`session ${st.session.session_id} (created ${st.session.created_at})`);
      if (st.health_error) print(`health unknown: ${st.health_error}`);
      // A Slurm target without endpoints (job pending or ended) still gets a row, with its job state.
      const slurmState = (t: (typeof st.targets)[number]) => (t.slurm ? `${t.slurm.state ?? '?'}${t.slurm.reason ? ` (${t.slurm.reason})` : ''}` : null);
      const rows = st.targets.flatMap((t) =>
        (t.endpoints_health.length
          ? t.endpoints_health
          : t.endpoints.length
            ? t.endpoints.map((e) => ({ endpoint: e, health: t.health, last_scrape: null, last_error: null }))
            : [{ endpoint: '-', health: t.health, last_scrape: null, last_error: null }]
        ).map((e) => [t.target_id, t.target_type, t.role, t.job_id, e.endpoint, e.health, e.last_scrape, e.last_error, slurmState(t)]),
      );
      print(table(['TARGET', 'TYPE', 'ROLE', 'JOB_ID', 'ENDPOINT', 'HEALTH', 'LAST_SCRAPE', 'ERROR', 'SLURM'], rows));
    });

  program
    .command('delete')
    .description('Delete a session (its targets leave Prometheus; artifacts stay)')
    .requiredOption('--session <id>', 'session id')
    .action(async (opts: { session: string }, cmd: Command) => {
      const r = await clientFor(cmd).deleteSession(opts.session);
      if (globals(cmd).json) printJson(r);
      else print(`session ${r.session_id} deleted (${r.targets_removed} targets removed)`);
    });
}
