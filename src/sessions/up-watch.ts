/**
 * What `?wait=up` polls: the `up` series of the targets being waited for, by PromQL.
 *
 * Prometheus's /api/v1/targets can only be narrowed to a scrape pool, and a session is one pool:
 * with 10,000 targets one call returned 7.4–7.9 MB and took 1.5–10 s (bench/register), which made
 * a registration wait seconds after Prometheus had already scraped it. `up{session, job}` is an
 * index lookup, a few ms at any session size. Waiters of one session share rounds: each round is
 * one query for every job waited on at that moment (concurrent registrations → one query), and a
 * caller that arrives while a round is in flight gets the next one (the running query may not
 * include its job).
 */
import type { PrometheusClient, VectorSample } from '../prometheus/client.js';

/** One endpoint's state as the `up` series tells it. */
export interface UpState {
  /** 1 = the last scrape succeeded, 0 = it failed. */
  up: number;
  /** When that scrape happened (the sample's timestamp). */
  lastScrape: string | null;
  lastScrapeDurationSeconds: number | null;
}

/** job → instance → state; a job or instance without a series has not been scraped yet. */
export type UpStates = Map<string, Map<string, UpState>>;

interface SessionRounds {
  wanted: Set<string>;
  next: Promise<UpStates> | undefined;
  inFlight: Promise<unknown> | undefined;
}

/** RE2 metacharacters escaped, then the backslashes doubled for the PromQL string literal. */
function regexAlternative(jobs: string[]): string {
  return jobs.map((j) => j.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|').replace(/\\/g, '\\\\');
}

/** One query, three series per endpoint: up, its sample time, the scrape duration. */
export function upQuery(sessionId: string, jobs: string[]): string {
  const sel = `session="${sessionId}",job=~"${regexAlternative(jobs)}"`;
  return [
    `label_replace(up{${sel}}, "bm_kind", "up", "", "")`,
    `label_replace(timestamp(up{${sel}}), "bm_kind", "ts", "", "")`,
    `label_replace(scrape_duration_seconds{${sel}}, "bm_kind", "dur", "", "")`,
  ].join(' or ');
}

export function parseUpStates(samples: VectorSample[]): UpStates {
  const states: UpStates = new Map();
  const get = (job: string, instance: string): UpState => {
    let byInstance = states.get(job);
    if (!byInstance) states.set(job, (byInstance = new Map()));
    let s = byInstance.get(instance);
    if (!s) byInstance.set(instance, (s = { up: NaN, lastScrape: null, lastScrapeDurationSeconds: null }));
    return s;
  };
  for (const { metric, value } of samples) {
    const job = metric.job;
    const instance = metric.instance;
    if (job === undefined || instance === undefined) continue;
    const v = Number(value[1]);
    const s = get(job, instance);
    if (metric.bm_kind === 'up') s.up = v;
    else if (metric.bm_kind === 'ts') s.lastScrape = Number.isFinite(v) ? new Date(v * 1000).toISOString() : null;
    else if (metric.bm_kind === 'dur') s.lastScrapeDurationSeconds = Number.isFinite(v) ? v : null;
  }
  // A duration or timestamp without its up sample (a race between the three selectors) is not a state.
  for (const byInstance of states.values()) for (const [i, s] of byInstance) if (Number.isNaN(s.up)) byInstance.delete(i);
  return states;
}

export class UpWatch {
  private readonly sessions = new Map<string, SessionRounds>();
  /** Queries sent; tests read it to show that concurrent waiters share rounds. */
  rounds = 0;

  constructor(private readonly client: PrometheusClient) {}

  /** The states of `job`'s endpoints from the next round that includes it. */
  async next(sessionId: string, job: string): Promise<Map<string, UpState>> {
    let s = this.sessions.get(sessionId);
    if (!s) this.sessions.set(sessionId, (s = { wanted: new Set(), next: undefined, inFlight: undefined }));
    s.wanted.add(job);
    if (!s.next) {
      const after = s.inFlight ?? Promise.resolve();
      const rounds = s;
      s.next = after.then(() => this.round(sessionId, rounds), () => this.round(sessionId, rounds));
    }
    return (await s.next).get(job) ?? new Map();
  }

  private round(sessionId: string, s: SessionRounds): Promise<UpStates> {
    const jobs = [...s.wanted];
    s.wanted.clear();
    s.next = undefined;
    this.rounds++;
    const query = this.client.queryInstant(upQuery(sessionId, jobs)).then((r) => (r.resultType === 'vector' ? parseUpStates(r.result) : new Map()));
    s.inFlight = query;
    void query.finally(() => {
      if (s.inFlight === query) s.inFlight = undefined;
      if (!s.next && s.wanted.size === 0 && !s.inFlight) this.sessions.delete(sessionId);
    }).catch(() => undefined);
    return query;
  }
}
