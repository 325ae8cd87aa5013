import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { COLLECTION_ID_PATTERN } from '../../artifacts/manifest.js';
import { readCollectionManifest } from '../../artifacts/read-collection.js';
import { ARTIFACT_FILES } from '../../artifacts/write-collection.js';
import { clientFor, globals } from '../context.js';
import { print, printJson } from '../output.js';
import { UsageError } from './targets.js';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description("Re-create a collection's report.html: by collection id (on the server), or from a local collection directory (no server needed)")
    .argument('<collection>', 'a collection id (e.g. 20261129T090000Z-1a2b3c4d) or a directory holding MANIFEST.json')
    .action(async (collection: string, _opts: unknown, cmd: Command) => {
      const json = globals(cmd).json === true;
      let answer: { collection_id: string; path: string; rendered: 'local' | 'server' };
      // A directory wins over an id: `benchmon report <id>` inside a session's artifact folder works without a server.
      if (fs.existsSync(path.join(collection, ARTIFACT_FILES.manifest))) {
        const { writeReport } = await import('../../web/report.js');
        const dir = path.resolve(collection);
        const file = await writeReport(dir);
        answer = { collection_id: (await readCollectionManifest(dir)).collection_id, path: file, rendered: 'local' };
      } else if (new RegExp(COLLECTION_ID_PATTERN).test(collection)) {
        answer = { ...(await clientFor(cmd).writeReport(collection)), rendered: 'server' };
      } else if (fs.existsSync(collection)) {
        throw new UsageError(`${collection}: no ${ARTIFACT_FILES.manifest} there; give a collection directory or a collection id`);
      } else {
        throw new UsageError(`${collection}: neither a collection directory nor a collection id (pattern ${COLLECTION_ID_PATTERN})`);
      }
      if (json) return printJson(answer);
      print(`report: ${answer.path}`);
    });
}
