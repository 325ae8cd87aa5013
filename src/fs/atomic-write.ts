/**
 * Write a file so that a reader (Prometheus's file_sd watcher, a restart after a crash) sees
 * either the old content or the new one, never a half-written file: write a temp file in the
 * same directory, then rename over the target (rename is atomic within one filesystem).
 */
import fs from 'node:fs/promises';
import path from 'node:path';

let counter = 0;

/** tempDir: where the temp file goes (same filesystem as file); by default beside the file. */
export function tempPathFor(file: string, tempDir: string = path.dirname(file)): string {
  counter = (counter + 1) % 1_000_000;
  return path.join(tempDir, `.${path.basename(file)}.tmp-${process.pid}-${counter}`);
}

/**
 * tempDir matters for watched directories: Prometheus's file_sd re-reads every file of a
 * directory on any event in it, so a temp file written there costs it extra full scans.
 */
export async function atomicWriteFile(file: string, content: string | Uint8Array | readonly Uint8Array[], tempDir?: string): Promise<void> {
  const tmp = tempPathFor(file, tempDir);
  try {
    if (Array.isArray(content)) {
      // Pieces kept apart by the caller (file_sd chunks) go out in one writev, never concatenated.
      const fh = await fs.open(tmp, 'w');
      try {
        const { bytesWritten } = await fh.writev(content as Uint8Array[]);
        const expected = content.reduce((n, b) => n + b.byteLength, 0);
        if (bytesWritten !== expected) throw new Error(`short write to ${tmp}: ${bytesWritten} of ${expected} bytes`);
      } finally {
        await fh.close();
      }
    } else await fs.writeFile(tmp, content as string | Uint8Array);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
