/**
 * Reading collections back: a collection directory's MANIFEST.json (checked against the schema),
 * and the finished collections under a parent directory, oldest first. Staging directories of
 * collections still being written (or abandoned by a crash) are never listed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { STAGING_PREFIX } from './collection-dir.js';
import { manifestProblems, type Manifest } from './manifest.js';
import { ARTIFACT_FILES } from './write-collection.js';

export async function readCollectionManifest(dir: string): Promise<Manifest> {
  const text = await fs.readFile(path.join(dir, ARTIFACT_FILES.manifest), 'utf8');
  const manifest = JSON.parse(text) as unknown;
  const problems = manifestProblems(manifest);
  if (problems.length > 0) throw new Error(`${path.join(dir, ARTIFACT_FILES.manifest)} does not match the manifest schema: ${problems.slice(0, 5).join('; ')}`);
  return manifest as Manifest;
}

/** Finished collection directories directly under parent (e.g. <ARTIFACTS_ROOT>/<session>), by name = by time. */
export async function listCollectionDirs(parent: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(parent, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const dirs: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith(STAGING_PREFIX)) continue;
    try {
      await fs.access(path.join(parent, e.name, ARTIFACT_FILES.manifest));
      dirs.push(path.join(parent, e.name));
    } catch {
      // not a collection
    }
  }
  return dirs.sort();
}
