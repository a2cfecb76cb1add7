import type { EventEmitter } from 'node:events';

import type { Redis } from 'ioredis';
import { Cluster } from 'ioredis';

/** The part of ioredis' (private) connector this module wraps. */
interface SocketConnector {
  connect(emitter: unknown): Promise<EventEmitter>;
}

const guarded = new WeakSet<object>();

/** Keeps a socket's later `error` events from becoming uncaught exceptions. */
function ignoreLaterErrors(): void {
  // The first error on the socket already reached ioredis (reconnect, `error` event, metrics);
  // whatever the dying socket emits after it carries no news.
}

/**
 * Gives every socket the client opens an `error` listener for the socket's whole life.
 *
 * ioredis listens for a socket's errors with `once()`. A TLS handshake that fails (for example a
 * server certificate signed by a CA the client does not trust) can make Node's TLS socket emit
 * `error` twice — the verification error, then the server's alert — and the second one, finding
 * no listener, is thrown as an uncaught exception that ends the process. With this listener in
 * place the first error still goes to ioredis as before and the second is dropped.
 *
 * For a cluster, each node connection is guarded as ioredis creates it.
 * @param client A client before its first `connect()`.
 */
export function keepSocketErrorsHandled(client: Redis | Cluster): void {
  if (guarded.has(client)) return;
  guarded.add(client);
  if (client instanceof Cluster) {
    client.on('+node', (node: Redis) => keepSocketErrorsHandled(node));
    return;
  }
  const connector = (client as unknown as { connector?: SocketConnector }).connector;
  if (connector === undefined || typeof connector.connect !== 'function') {
    throw new TypeError(
      'ioredis client without a connector: the installed ioredis is not supported',
    );
  }
  const connect = connector.connect.bind(connector);
  connector.connect = async (emitter: unknown) => {
    const stream = await connect(emitter);
    stream.on('error', ignoreLaterErrors);
    return stream;
  };
}
