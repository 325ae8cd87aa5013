/**
 * Data quality of a KPI: how many series fed it, how many samples the window should have held
 * and how many it did, and when its targets were down. Pure functions over query results.
 *
 * Coverage is counted per target (job, instance), not per series: a target's samples present
 * are those of its fullest series. Otherwise a label combination that first appears mid-window
 * (the first HTTP 500 of a run) would read as missing data, while a target that was down half
 * the window rightly reads as ≈ 50 %.
 */

export type Labels = Record<string, string>;

export interface TargetRef {
  job: string;
  instance: string;
}

/** A period in the window during which a target was not scraped successfully. */
export interface TargetGap extends TargetRef {
  /** ms since epoch: first evaluation step without a successful scrape. */
  fromMs: number;
  /** ms since epoch: the next step with a successful scrape, or the window's end. */
  toMs: number;
  /** down: `up` was 0 (scrapes failed); absent: no `up` at all (target not scraped, e.g. removed); mixed: both. */
  kind: 'down' | 'absent' | 'mixed';
}

export interface SeriesSampleCount {
  labels: Labels;
  /** Samples in the window (count_over_time over W). */
  count: number;
}

export interface CoverageSummary {
  series: number;
  targets: number;
  samplesExpected: number;
  samplesPresent: number;
  /** present / expected in [0, 1], or null when nothing was expected (no series at all). */
  coverage: number | null;
  /** Targets that fed the KPI, as "job/instance". */
  targetKeys: string[];
}

export function targetKey(labels: { job?: string | undefined; instance?: string | undefined }): string {
  return `${labels.job ?? ''}/${labels.instance ?? ''}`;
}

/** Samples a target scraped every intervalMs should have in a window of durationMs. */
export function expectedSamples(durationMs: number, intervalMs: number): number {
  return Math.max(1, Math.floor(durationMs / intervalMs));
}

/**
 * Coverage of a set of series: Σ over targets of min(fullest series' count, expected) over
 * Σ expected. `intervalFor` gives a target's scrape interval in ms.
 */
export function summariseCoverage(series: readonly SeriesSampleCount[], durationMs: number, intervalFor: (target: string) => number): CoverageSummary {
  const fullest = new Map<string, number>();
  for (const s of series) {
    const key = targetKey(s.labels);
    fullest.set(key, Math.max(fullest.get(key) ?? 0, s.count));
  }
  let expected = 0;
  let present = 0;
  for (const [key, count] of fullest) {
    const e = expectedSamples(durationMs, intervalFor(key));
    expected += e;
    present += Math.min(count, e);
  }
  return {
    series: series.length,
    targets: fullest.size,
    samplesExpected: expected,
    samplesPresent: present,
    coverage: expected > 0 ? present / expected : null,
    targetKeys: [...fullest.keys()].sort(),
  };
}

/** Whether a series belongs to a slice: it agrees on every slice label it carries. */
export function matchesSlice(series: Labels, slice: Labels): boolean {
  for (const [k, v] of Object.entries(slice)) {
    if (k in series && series[k] !== v) return false;
  }
  return true;
}

/**
 * Periods without a successful scrape, per target, from `up` evaluated at every step of the
 * window. A target is only judged once it has appeared: a target with no `up` in the whole
 * window is not known to belong to it.
 */
export function findTargetGaps(
  upSeries: ReadonlyArray<{ labels: Labels; points: ReadonlyArray<readonly [number, number | null]> }>,
  window: { startMs: number; endMs: number; stepMs: number },
): TargetGap[] {
  const steps: number[] = [];
  for (let t = window.startMs; t <= window.endMs; t += window.stepMs) steps.push(t);
  // One target may show up as several `up` series (a relabelled duplicate); a step is good if any is 1.
  const byTarget = new Map<string, { ref: TargetRef; values: Map<number, number | null> }>();
  for (const s of upSeries) {
    const key = targetKey(s.labels);
    let entry = byTarget.get(key);
    if (!entry) {
      entry = { ref: { job: s.labels.job ?? '', instance: s.labels.instance ?? '' }, values: new Map() };
      byTarget.set(key, entry);
    }
    for (const [t, v] of s.points) {
      const prev = entry.values.get(t);
      if (prev !== 1) entry.values.set(t, v);
    }
  }
  const gaps: TargetGap[] = [];
  for (const { ref, values } of [...byTarget.values()].sort((a, b) => targetKey(a.ref).localeCompare(targetKey(b.ref)))) {
    let open: { fromMs: number; down: boolean; absent: boolean } | undefined;
    for (const t of steps) {
      const v = values.get(t);
      if (v === 1) {
        if (open) gaps.push(closeGap(ref, open, t));
        open = undefined;
        continue;
      }
      open ??= { fromMs: t, down: false, absent: false };
      if (v === undefined || v === null) open.absent = true;
      else open.down = true;
    }
    if (open) gaps.push(closeGap(ref, open, window.endMs));
  }
  return gaps;
}

function closeGap(ref: TargetRef, open: { fromMs: number; down: boolean; absent: boolean }, toMs: number): TargetGap {
  return { ...ref, fromMs: open.fromMs, toMs: Math.max(toMs, open.fromMs), kind: open.down && open.absent ? 'mixed' : open.down ? 'down' : 'absent' };
}
