import type { Server } from 'node:http';

/**
 * Stops `server` listening and closes every socket it still holds, idle keep-alive ones
 * included; resolves when the server has closed.
 * @param server A listening Node HTTP server.
 */
export function closeHttpServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
