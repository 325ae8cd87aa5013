import net from 'node:net';

/**
 * A TCP port nothing listens on right now, on `host` (default 127.0.0.1). For processes that cannot listen on
 * port 0 and report the port back (Prometheus, node_exporter), and for tests and benchmarks. Pass 0.0.0.0 for a
 * port that a Slurm job step will listen on: it binds every address of the node, so the port must be free on all.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
