/**
 * The apply protocol for prometheus.yml (DESIGN §4):
 * render → own checks → temp file → promtool check → rename → POST /-/reload → verify
 * reloadConfigSuccess → on any failure restore the last good file, reload it, and report why.
 * Concurrent requests coalesce: callers that arrive while an apply runs share the next one, and
 * each caller's promise settles with the apply that includes its change.
 */
import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import { BenchmonError, describeError } from '../../errors.js';
import { atomicWriteFile, tempPathFor } from '../../fs/atomic-write.js';
import type { PrometheusClient } from '../client.js';
import { checkPrometheusConfig } from './validate.js';
import { promtoolCheckConfig } from './promtool.js';
import { configChecksum } from './render.js';

export interface ApplyCounters {
  reloads(): void;
  reloadFailures(): void;
  rollbacks(): void;
}

export interface ConfigRevisionLog {
  recordConfigRevision(checksum: string, content: string, outcome: 'applied' | 'rolled_back', reason: string | null): void;
}

export interface ApplyOptions {
  configPath: string;
  promtoolBin: string;
  client: PrometheusClient;
  render: () => Promise<string>;
  revisions: ConfigRevisionLog;
  counters: ApplyCounters;
  logger: Logger;
}

export interface ApplyOutcome { changed: boolean; checksum: string }

interface Deferred { promise: Promise<ApplyOutcome>; resolve: (o: ApplyOutcome) => void; reject: (e: unknown) => void; force: boolean }

function deferred(): Deferred {
  let resolve!: (o: ApplyOutcome) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<ApplyOutcome>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, force: false };
}

/** Reads of reloadConfigSuccess after a 2xx reload before the 2xx is taken as the answer. */
const VERIFY_ATTEMPTS = 3;

export class ConfigApplier {
  private running: Promise<void> | undefined;
  private queued: Deferred | undefined;
  private lastReloadOk: boolean | undefined;
  private lastError: string | undefined;

  constructor(private readonly opts: ApplyOptions) {}

  get lastGoodPath(): string {
    return `${this.opts.configPath}.last-good`;
  }

  status(): { last_reload_ok: boolean | undefined; last_error: string | undefined } {
    return { last_reload_ok: this.lastReloadOk, last_error: this.lastError };
  }

  /** Render, validate and write prometheus.yml without reloading: used before Prometheus starts. */
  async writeInitial(): Promise<string> {
    const content = await this.opts.render();
    await this.validate(content, async (tmp) => {
      await fs.rename(tmp, this.opts.configPath);
    });
    await atomicWriteFile(this.lastGoodPath, content);
    return content;
  }

  /** Apply the current state. Resolves once Prometheus runs a config that includes it. */
  request(force = false): Promise<ApplyOutcome> {
    if (!this.queued) this.queued = deferred();
    if (force) this.queued.force = true;
    const { promise } = this.queued;
    if (!this.running) this.runNext();
    return promise;
  }

  private runNext(): void {
    const job = this.queued!;
    this.queued = undefined;
    this.running = this.applyOnce(job.force)
      .then(job.resolve, job.reject)
      .finally(() => {
        this.running = undefined;
        if (this.queued) this.runNext();
      });
  }

  /** Own checks, then promtool on a temp file beside the target; `use` consumes the temp file. */
  private async validate(content: string, use: (tmp: string) => Promise<void>): Promise<void> {
    const problems = checkPrometheusConfig(content);
    if (problems.length > 0) {
      throw new BenchmonError('PROM_CONFIG_INVALID', `rendered Prometheus config failed benchmon's checks: ${problems.join('; ')}`, { details: { problems } });
    }
    const tmp = tempPathFor(this.opts.configPath);
    try {
      await fs.writeFile(tmp, content);
      const check = await promtoolCheckConfig(this.opts.promtoolBin, tmp);
      if (check.ran && !check.ok) {
        throw new BenchmonError('PROM_CONFIG_INVALID', `promtool check config rejected the rendered config: ${check.output}`, { details: { promtool: check.output } });
      }
      if (!check.ran) this.opts.logger.debug({ reason: check.reason }, 'promtool not available; own checks only');
      await use(tmp);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  private async applyOnce(force: boolean): Promise<ApplyOutcome> {
    const content = await this.opts.render();
    const checksum = configChecksum(content);
    const current = await fs.readFile(this.opts.configPath, 'utf8').catch(() => undefined);
    if (current === content && !force) return { changed: false, checksum };

    await this.validate(content, async (tmp) => {
      await fs.rename(tmp, this.opts.configPath);
    });
    try {
      await this.reloadAndVerify();
    } catch (err) {
      const reason = describeError(err);
      this.lastReloadOk = false;
      this.lastError = reason;
      this.opts.counters.reloadFailures();
      await this.rollback(reason);
      this.opts.revisions.recordConfigRevision(checksum, content, 'rolled_back', reason);
      throw new BenchmonError('PROM_RELOAD_FAILED', `Prometheus did not accept the new config (${reason}); the last good config was restored`, { cause: err });
    }
    this.lastReloadOk = true;
    this.lastError = undefined;
    this.opts.counters.reloads();
    await atomicWriteFile(this.lastGoodPath, content);
    this.opts.revisions.recordConfigRevision(checksum, content, 'applied', null);
    this.opts.logger.info({ checksum }, 'prometheus config applied');
    return { changed: true, checksum };
  }

  private async reloadAndVerify(): Promise<void> {
    await this.opts.client.reloadConfig();
    // /-/reload answers 2xx only after Prometheus applied the config; reloadConfigSuccess confirms
    // it. A Prometheus busy with 10,000 targets can take longer than a call's timeout to answer
    // runtimeinfo (bench/register): that is not a rejection, so it is asked again, and if it never
    // answers the 2xx stands (logged). Only a reported failure rolls back.
    let unreadable: unknown;
    for (let attempt = 0; attempt < VERIFY_ATTEMPTS; attempt++) {
      let ok: boolean;
      try {
        ok = await this.opts.client.lastReloadSuccessful();
      } catch (err) {
        unreadable = err;
        await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
        continue;
      }
      if (!ok) throw new BenchmonError('PROM_RELOAD_FAILED', 'Prometheus reports prometheus_config_last_reload_successful = 0');
      return;
    }
    this.opts.logger.warn({ err: describeError(unreadable) }, 'reload answered 2xx but its success could not be confirmed from runtimeinfo');
  }

  private async rollback(reason: string): Promise<void> {
    const lastGood = await fs.readFile(this.lastGoodPath, 'utf8').catch(() => undefined);
    if (lastGood === undefined) {
      this.opts.logger.error({ reason }, 'reload failed and there is no last good config to restore');
      return;
    }
    await atomicWriteFile(this.opts.configPath, lastGood);
    this.opts.counters.rollbacks();
    try {
      await this.reloadAndVerify();
      this.opts.logger.warn({ reason }, 'prometheus rejected the new config; rolled back to the last good one');
    } catch (err) {
      this.opts.logger.error({ reason, rollback_error: describeError(err) }, 'rollback reload failed too; the last good config is on disk');
    }
  }
}
