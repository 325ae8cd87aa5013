import net from 'node:net';

/**
 * A TCP port nothing listens on right now, on 127.0.0.1. For processes that cannot listen on
 * port 0 and report the port back (Prometheus, node_exporter), and for tests and benchmarks.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
