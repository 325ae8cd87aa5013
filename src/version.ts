import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function findVersion(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === 'benchmon' && pkg.version) return pkg.version;
    } catch {
      // try the next
    }
  }
  return '0.0.0';
}

/** From package.json, found from src/ (tsx) or dist/src/ (built). */
export const BENCHMON_VERSION = findVersion();
