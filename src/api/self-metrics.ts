/**
 * benchmon's own metrics (prom-client), one registry per service instance so that several
 * instances (tests, side-by-side deployments) never share counters.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export class SelfMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'benchmon_http_requests_total',
    help: 'HTTP requests answered by benchmon, by method, route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly registrations = new Counter({
    name: 'benchmon_target_registrations_total',
    help: 'Targets registered into sessions.',
    registers: [this.registry],
  });
  readonly deregistrations = new Counter({
    name: 'benchmon_target_deregistrations_total',
    help: 'Targets removed from sessions.',
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'benchmon_prometheus_reloads_total',
    help: 'Prometheus configuration reloads that were applied and verified.',
    registers: [this.registry],
  });
  readonly reloadFailures = new Counter({
    name: 'benchmon_prometheus_reload_failures_total',
    help: 'Prometheus configuration reloads that Prometheus rejected or that could not be verified.',
    registers: [this.registry],
  });
  readonly rollbacks = new Counter({
    name: 'benchmon_config_rollbacks_total',
    help: 'Times the last good Prometheus configuration was restored after a failed apply.',
    registers: [this.registry],
  });
  readonly prometheusRestarts = new Counter({
    name: 'benchmon_prometheus_restarts_total',
    help: 'Restarts of the supervised local Prometheus after it died.',
    registers: [this.registry],
  });
  readonly sessions = new Gauge({ name: 'benchmon_sessions', help: 'Sessions currently registered.', registers: [this.registry] });
  readonly targets = new Gauge({ name: 'benchmon_targets', help: 'Targets currently registered, over all sessions.', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'benchmon_' });
  }
}
