/**
 * Where a collection's files go, and how they get there: every collection has its own new
 * directory `<parent>/<UTC time>-<random id>` (parent: `<ARTIFACTS_ROOT>/<session>` or the
 * caller's output_dir, which must stay inside ARTIFACTS_ROOT). Files are written into a hidden
 * staging directory beside it and the directory is renamed into place at the end, so a reader
 * never sees a half-written collection and no collection ever replaces another.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { invalidField } from '../errors.js';
import { isValidSessionId } from '../sessions/identifiers.js';

export const STAGING_PREFIX = '.incomplete-';

/** `20240501T120000Z-1a2b3c4d`: sorts by time, unique by its random part. */
export function newCollectionId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The deepest existing ancestor of p (p itself if it exists), with symlinks resolved. */
async function realpathOfExistingPart(p: string): Promise<{ real: string; rest: string }> {
  let current = p;
  let rest = '';
  for (;;) {
    try {
      return { real: await fs.realpath(current), rest };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const parent = path.dirname(current);
      if (parent === current) throw err;
      rest = rest === '' ? path.basename(current) : path.join(path.basename(current), rest);
      current = parent;
    }
  }
}

/**
 * The parent directory of a new collection. output_dir may be relative (to the artifacts root)
 * or absolute; after resolving `..` and symlinks it must lie inside the artifacts root, or it
 * is refused (400, field output_dir).
 */
export async function resolveCollectionParent(artifactsRoot: string, sessionId: string, outputDir?: string): Promise<string> {
  if (!isValidSessionId(sessionId)) throw invalidField('session_id', `invalid session id ${JSON.stringify(sessionId)}`);
  const root = path.resolve(artifactsRoot);
  if (outputDir === undefined) return path.join(root, sessionId);
  if (outputDir === '' || outputDir.includes('\0')) throw invalidField('output_dir', 'must be a non-empty path');
  const candidate = path.resolve(root, outputDir);
  if (!isInside(root, candidate)) {
    throw invalidField('output_dir', `${JSON.stringify(outputDir)} resolves to ${candidate}, outside the artifacts root ${root}`);
  }
  // A symlink inside the root may point anywhere; judge where the path really leads.
  await fs.mkdir(root, { recursive: true });
  const realRoot = await fs.realpath(root);
  const { real, rest } = await realpathOfExistingPart(candidate);
  const realCandidate = rest === '' ? real : path.join(real, rest);
  if (!isInside(realRoot, realCandidate)) {
    throw invalidField('output_dir', `${JSON.stringify(outputDir)} leads (through a symbolic link) to ${realCandidate}, outside the artifacts root ${realRoot}`);
  }
  return candidate;
}

export interface StagedCollection {
  id: string;
  /** Where the files are written now. */
  stagingDir: string;
  /** Where they will be after commit. */
  finalDir: string;
}

export async function stageCollection(parent: string, now: Date = new Date()): Promise<StagedCollection> {
  await fs.mkdir(parent, { recursive: true });
  const id = newCollectionId(now);
  const stagingDir = await fs.mkdtemp(path.join(parent, `${STAGING_PREFIX}${id}-`));
  return { id, stagingDir, finalDir: path.join(parent, id) };
}

/**
 * Renames the staging directory into place. rename(2) would replace an existing *empty*
 * directory, so a name that exists in any form is refused rather than reused.
 */
export async function commitCollection(staged: StagedCollection): Promise<string> {
  try {
    await fs.lstat(staged.finalDir);
    throw new Error(`collection directory ${staged.finalDir} already exists; refusing to replace it`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.rename(staged.stagingDir, staged.finalDir);
  return staged.finalDir;
}

export async function discardCollection(staged: StagedCollection): Promise<void> {
  await fs.rm(staged.stagingDir, { recursive: true, force: true });
}
