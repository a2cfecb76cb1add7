import type { Socket } from 'node:net';

/**
 * Aborts a TCP connection with RST, so the peer sees ECONNRESET the way it would from a crashed
 * server or a dropped route; a plain destroy would send FIN and look like an orderly close.
 * Sockets that cannot be reset (still connecting, already closed) are just destroyed.
 *
 * @param socket Socket to abort.
 */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
