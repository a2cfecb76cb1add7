import { createServer } from 'node:net';

/**
 * Asks the OS for a free TCP port on `host` by binding port 0 and releasing it again.
 *
 * The port is free at the moment of the call; another process may take it before the caller
 * binds it, so callers that must own the port retry on `EADDRINUSE`.
 *
 * @param host Interface to probe.
 * @default host '127.0.0.1'
 * @returns The port number the OS handed out.
 * @example
 * const port = await getFreePort();
 */
export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`Could not read the port bound on ${host}; check that ${host} is local.`));
        return;
      }
      server.close((err) => (err ? reject(err) : resolve(address.port)));
    });
  });
}

/**
 * Tells whether `port` can be bound on `host` right now (by binding and releasing it).
 *
 * @param port Port to probe.
 * @param host Interface to probe.
 * @default host '127.0.0.1'
 * @returns `false` when the port is in use (`EADDRINUSE`), `true` otherwise.
 * @throws Errors other than `EADDRINUSE` (e.g. `EACCES` for privileged ports).
 */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? resolve(false) : reject(err),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
