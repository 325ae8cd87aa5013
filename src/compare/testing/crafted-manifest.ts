/**
 * Test support: small hand-made manifests with just the fields a comparison reads, for the
 * engine's unit tests (the integration test compares real collections).
 */
import type { ComparableManifest } from '../comparable.js';
import type { LoadedCollection } from '../run-compare.js';

/** [name, value, higher_is_better, unit?, note?] */
export type CraftedKpi = [string, number | null, boolean, string?, string?];

let counter = 0;

export function craftedManifest(kpis: CraftedKpi[], options: { id?: string; phases?: Array<{ name: string; kpis: Array<{ name: string; value: number | null; unit?: string; higher_is_better?: boolean }> }> } = {}): ComparableManifest {
  counter++;
  const id = options.id ?? `20260101T0000${String(counter % 60).padStart(2, '0')}Z-${counter.toString(16).padStart(8, '0')}`;
  return {
    collection_id: id,
    session: { session_id: 'bench' },
    window: { start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T00:01:00.000Z' },
    recipe: { name: 'default' },
    kpis: kpis.map(([name, value, hib, unit, note]) => ({ name, value, higher_is_better: hib, unit: unit ?? (name.startsWith('latency') ? 's' : 'req/s'), note: note ?? null, quality: { coverage: value === null ? null : 1 } })),
    ...(options.phases ? { phases: options.phases } : {}),
  };
}

export function loaded(kpis: CraftedKpi[], options: Parameters<typeof craftedManifest>[1] = {}): LoadedCollection {
  const manifest = craftedManifest(kpis, options);
  return { manifest, source: `/artifacts/bench/${manifest.collection_id}` };
}
