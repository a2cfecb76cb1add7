import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

import { buildConnector } from 'undici';

/** Most alerts remembered: each is looked up once, right after its request failed. */
const MAX_ALERTS = 64;

function socketKey(address: unknown, port: unknown): string {
  return `${String(address)}:${String(port)}`;
}

/**
 * TLS alerts upstreams sent after the handshake, by the local address of the socket. In TLS 1.3
 * a server checks the client certificate after the client considers the handshake done: its
 * refusal (`tlsv13 alert certificate required`) reaches the socket as an error that undici then
 * replaces with `other side closed` when the socket ends. The transport looks the alert up to
 * report it (and not retry a reset that is no reset).
 */
export class TlsAlertLog {
  private readonly alerts = new Map<string, Error>();

  /**
   * A connector like undici's own (`buildConnector(options)`) that records its sockets' alerts,
   * and hands each new TLS connection to `onSecure` (with the origin it was opened for).
   */
  connector(
    options: buildConnector.BuildOptions,
    onSecure?: (socket: TLSSocket, origin: string) => void,
  ): buildConnector.connector {
    const connect = buildConnector(options);
    return (target, callback) =>
      connect(target, (error, socket) => {
        if (socket) this.watch(socket);
        if (socket && onSecure && target.protocol === 'https:') {
          // Behind the DNS cache `hostname` is an address; `servername` keeps the name.
          const host = target.servername ?? target.hostname;
          onSecure(socket as TLSSocket, `https://${host}${target.port ? `:${target.port}` : ''}`);
        }
        // The callback type is a tuple union; the arguments are passed on as they came.
        (callback as (error: Error | null, socket: Socket | null) => void)(error, socket);
      });
  }

  /**
   * The alert of the socket an undici `SocketError` (possibly as an `AxiosError`'s `cause`)
   * names, removed from the log; undefined when there is none.
   */
  take(error: unknown): Error | undefined {
    if (this.alerts.size === 0) return undefined;
    const cause = (error as { cause?: unknown }).cause ?? error;
    const info = (cause as { socket?: { localAddress?: unknown; localPort?: unknown } }).socket;
    if (!info) return undefined;
    const key = socketKey(info.localAddress, info.localPort);
    const alert = this.alerts.get(key);
    this.alerts.delete(key);
    return alert;
  }

  private watch(socket: Socket): void {
    const key = socketKey(socket.localAddress, socket.localPort);
    socket.on('error', (error: Error & { code?: unknown }) => {
      if (typeof error.code !== 'string' || !error.code.startsWith('ERR_SSL_')) return;
      if (this.alerts.size >= MAX_ALERTS) {
        const oldest = this.alerts.keys().next();
        if (!oldest.done) this.alerts.delete(oldest.value);
      }
      this.alerts.set(key, error);
    });
  }
}
