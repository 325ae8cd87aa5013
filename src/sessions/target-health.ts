/**
 * Live health of registered targets, read from Prometheus's /api/v1/targets. Concurrent callers
 * (200 registrations waiting for `up`) share one request per session pool and a short cache.
 */
import type { ActiveTarget, PrometheusClient } from '../prometheus/client.js';
import { sessionJobName } from '../prometheus/config/render.js';
import type { EndpointHealth, Target, TargetWithHealth } from './model.js';
import type { UpState } from './up-watch.js';

const CACHE_MS = 400;

export class TargetHealth {
  private readonly cache = new Map<string, { at: number; result: Promise<ActiveTarget[]> }>();

  constructor(private readonly client: PrometheusClient) {}

  /** Active targets of a session's scrape pool, at most CACHE_MS old. */
  activeTargets(sessionId: string, fresh = false): Promise<ActiveTarget[]> {
    const hit = this.cache.get(sessionId);
    if (hit && !fresh && Date.now() - hit.at < CACHE_MS) return hit.result;
    const pool = sessionJobName(sessionId);
    const result = this.client
      .getTargets({ state: 'active', scrapePool: pool })
      .then((r) => r.activeTargets.filter((t) => t.scrapePool === pool || t.labels.session === sessionId));
    this.cache.set(sessionId, { at: Date.now(), result });
    result.catch(() => this.cache.delete(sessionId));
    return result;
  }

  static index(active: ActiveTarget[]): Map<string, ActiveTarget> {
    const byKey = new Map<string, ActiveTarget>();
    for (const a of active) byKey.set(`${a.labels.job}\u0000${a.labels.instance}`, a);
    return byKey;
  }

  static withHealth(target: Target, index: Map<string, ActiveTarget>): TargetWithHealth {
    const endpoints_health: EndpointHealth[] = target.endpoints.map((endpoint) => {
      const a = index.get(`${target.job_name}\u0000${endpoint}`);
      if (!a) return { endpoint, health: 'pending', last_scrape: null, last_scrape_duration_seconds: null, last_error: null, scrape_url: null };
      const scraped = a.lastScrape && !a.lastScrape.startsWith('0001-');
      return {
        endpoint,
        health: a.health,
        last_scrape: scraped ? a.lastScrape : null,
        last_scrape_duration_seconds: scraped ? a.lastScrapeDuration : null,
        last_error: a.lastError === '' ? null : a.lastError,
        scrape_url: a.scrapeUrl,
      };
    });
    return TargetHealth.combine(target, endpoints_health);
  }

  /** The same from the `up` series (what `?wait=up` polls); last_error and scrape_url are not in them. */
  static withUpStates(target: Target, byInstance: Map<string, UpState>): TargetWithHealth {
    const endpoints_health: EndpointHealth[] = target.endpoints.map((endpoint) => {
      const s = byInstance.get(endpoint);
      if (!s) return { endpoint, health: 'pending', last_scrape: null, last_scrape_duration_seconds: null, last_error: null, scrape_url: null };
      return { endpoint, health: s.up === 1 ? 'up' : 'down', last_scrape: s.lastScrape, last_scrape_duration_seconds: s.lastScrapeDurationSeconds, last_error: null, scrape_url: null };
    });
    return TargetHealth.combine(target, endpoints_health);
  }

  private static combine(target: Target, endpoints_health: EndpointHealth[]): TargetWithHealth {
    const states = new Set(endpoints_health.map((e) => e.health));
    const health: TargetWithHealth['health'] = states.size === 1 ? [...states][0]! : states.has('up') ? 'partial' : states.has('down') ? 'down' : 'pending';
    // A Slurm target whose job ended has no endpoints left; its slurm.state says how the job ended.
    if (target.slurm?.phase === 'ended') return { ...target, health: 'ended', endpoints_health };
    return { ...target, health, endpoints_health };
  }
}
