/**
 * Write a file so that a reader (Prometheus's file_sd watcher, a restart after a crash) sees
 * either the old content or the new one, never a half-written file: write a temp file in the
 * same directory, then rename over the target (rename is atomic within one filesystem).
 */
import fs from 'node:fs/promises';
import path from 'node:path';

let counter = 0;

export function tempPathFor(file: string): string {
  counter = (counter + 1) % 1_000_000;
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${counter}`);
}

export async function atomicWriteFile(file: string, content: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(file);
  try {
    await fs.writeFile(tmp, content);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
