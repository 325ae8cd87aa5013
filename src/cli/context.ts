import type { Command } from 'commander';
import { BenchmonClient } from '../client/api-client.js';

export interface GlobalOptions { url: string; token?: string; json?: boolean }

/** Global options live on the root program; every command reads them through here. */
export function globals(cmd: Command): GlobalOptions {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}

export function clientFor(cmd: Command): BenchmonClient {
  const g = globals(cmd);
  return new BenchmonClient(g.url, { token: g.token });
}
