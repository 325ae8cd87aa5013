import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBenchmonError } from '../errors.js';
import { SlurmCommandRunner, parseCommandPrefix, shellQuote } from './command-runner.js';

// The runner's failure paths, driven by real processes (sh, sleep) standing in for a wrapper:
// what matters is how exits, timeouts and missing binaries become errors.
const expectError = (code: string, pattern: RegExp) => (err: unknown) => {
  assert.ok(isBenchmonError(err), String(err));
  assert.equal(err.code, code, err.message);
  assert.match(err.message, pattern);
  return true;
};

describe('SlurmCommandRunner', () => {
  it('a missing binary is SLURM_UNAVAILABLE naming the command and where it looked', async () => {
    const runner = new SlurmCommandRunner({ binDir: '/nonexistent/slurm/bin' });
    await assert.rejects(runner.run('squeue', ['--json']), expectError('SLURM_UNAVAILABLE', /^squeue --json: \/nonexistent\/slurm\/bin\/squeue not found/));
  });

  it('no answer within the timeout is SLURM_UNAVAILABLE, and the process is killed', async () => {
    const runner = new SlurmCommandRunner({ timeoutMs: 300 });
    const t0 = Date.now();
    await assert.rejects(runner.run('sleep', ['30']), expectError('SLURM_UNAVAILABLE', /^sleep 30: no answer within 300 ms/));
    assert.ok(Date.now() - t0 < 5000);
  });

  it("a non-zero exit is SLURM_COMMAND_FAILED keeping the command's stderr", async () => {
    const runner = new SlurmCommandRunner();
    await assert.rejects(
      runner.run('sh', ['-c', 'echo "sbatch: error: invalid partition specified: nopart" >&2; exit 1']),
      expectError('SLURM_COMMAND_FAILED', /failed \(exit 1\): sbatch: error: invalid partition specified: nopart$/),
    );
  });

  it('an unreachable controller is SLURM_UNAVAILABLE', async () => {
    const runner = new SlurmCommandRunner();
    await assert.rejects(
      runner.run('sh', ['-c', 'echo "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)" >&2; exit 1']),
      expectError('SLURM_UNAVAILABLE', /Unable to contact slurm controller/),
    );
  });

  it('"command not found" behind a wrapper (exit 127) is SLURM_UNAVAILABLE', async () => {
    const runner = new SlurmCommandRunner({ prefix: ['sh', '-c'], shellQuote: true });
    await assert.rejects(runner.run('no-such-squeue', ['--json']), expectError('SLURM_UNAVAILABLE', /^sh -c no-such-squeue --json failed \(exit 127\)/));
  });

  it('stdin reaches the command (sbatch reads its script there)', async () => {
    const runner = new SlurmCommandRunner();
    const res = await runner.run('cat', [], { input: '#!/bin/sh\necho hi\n' });
    assert.equal(res.stdout, '#!/bin/sh\necho hi\n');
  });

  it('with a shell-quoting prefix (ssh) arguments survive the remote shell', async () => {
    // `sh -c WORDS` re-splits its argument as ssh's remote shell does.
    const runner = new SlurmCommandRunner({ prefix: ['sh', '-c'], shellQuote: true });
    const res = await runner.run('printf', ['%s|', 'svc with space', "it's", '$HOME', 'a;b']);
    assert.equal(res.stdout, "svc with space|it's|$HOME|a;b|");
  });

  it('ssh is quoted by default, other wrappers get plain argv', () => {
    assert.deepEqual(new SlurmCommandRunner({ prefix: ['ssh', 'login01'] }).argv('scancel', ['4 2']), ['ssh', 'login01', "scancel '4 2'"]);
    assert.deepEqual(new SlurmCommandRunner({ prefix: ['sudo', '-u', 'bench'] }).argv('scancel', ['42']), ['sudo', '-u', 'bench', 'scancel', '42']);
    assert.deepEqual(new SlurmCommandRunner({ binDir: '/opt/slurm/bin' }).argv('squeue', ['--json']), ['/opt/slurm/bin/squeue', '--json']);
  });

  it('helpers', () => {
    assert.deepEqual(parseCommandPrefix('  ssh  -o BatchMode=yes login01 '), ['ssh', '-o', 'BatchMode=yes', 'login01']);
    assert.deepEqual(parseCommandPrefix(undefined), []);
    assert.equal(shellQuote('node[01-03]'), "'node[01-03]'");
    assert.equal(shellQuote('--jobid=42'), '--jobid=42');
  });
});
