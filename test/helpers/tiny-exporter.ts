import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A minimal real HTTP server serving a fixed Prometheus text exposition (cheap to scrape many times). */
export async function startTinyExporter(body = '# TYPE tiny_up gauge\ntiny_up 1\n'): Promise<{ address: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
