import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BenchmonError } from '../errors.js';
import { commitCollection, newCollectionId, resolveCollectionParent, stageCollection } from './collection-dir.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-dirs-'));
const root = path.join(base, 'artifacts');
fs.mkdirSync(root);
after(() => fs.rmSync(base, { recursive: true, force: true }));

async function refused(outputDir: string): Promise<string> {
  try {
    await resolveCollectionParent(root, 's1', outputDir);
  } catch (err) {
    assert.ok(err instanceof BenchmonError);
    assert.equal(err.status, 400);
    assert.equal(err.details?.field, 'output_dir');
    return err.message;
  }
  assert.fail(`${outputDir} was accepted`);
}

describe('resolveCollectionParent', () => {
  it('puts collections under <root>/<session> by default and under output_dir inside the root', async () => {
    assert.equal(await resolveCollectionParent(root, 's1'), path.join(root, 's1'));
    assert.equal(await resolveCollectionParent(root, 's1', 'team/run-7'), path.join(root, 'team', 'run-7'));
    assert.equal(await resolveCollectionParent(root, 's1', path.join(root, 'abs')), path.join(root, 'abs'));
    assert.equal(await resolveCollectionParent(root, 's1', 'a/../b'), path.join(root, 'b'));
  });

  it('refuses an output_dir outside the artifacts root (400, field output_dir)', async () => {
    assert.match(await refused('../../etc'), /^output_dir: "..\/..\/etc" resolves to \/.*, outside the artifacts root/);
    await refused('/etc');
    await refused('..');
    await refused(`${root}-sibling`);
    await refused('');
  });

  it('refuses a path that leaves the root through a symbolic link', async () => {
    fs.symlinkSync('/tmp', path.join(root, 'escape'));
    assert.match(await refused('escape/x'), /through a symbolic link/);
  });
});

describe('staging and commit', () => {
  it('gives every collection a new name that sorts by time', () => {
    const id = newCollectionId(new Date('2024-05-01T12:34:56.789Z'));
    assert.match(id, /^20240501T123456Z-[0-9a-f]{8}$/);
    assert.notEqual(newCollectionId(), newCollectionId());
  });

  it('renames the staging directory into place and never replaces an existing one', async () => {
    const parent = path.join(root, 's1');
    const staged = await stageCollection(parent);
    fs.writeFileSync(path.join(staged.stagingDir, 'f'), 'x');
    assert.equal(await commitCollection(staged), staged.finalDir);
    assert.equal(fs.readFileSync(path.join(staged.finalDir, 'f'), 'utf8'), 'x');
    assert.equal(fs.existsSync(staged.stagingDir), false);

    const again = await stageCollection(parent);
    fs.mkdirSync(again.finalDir); // even an empty directory, which rename(2) would silently replace
    await assert.rejects(commitCollection({ ...again }), /already exists; refusing to replace it/);
  });
});
