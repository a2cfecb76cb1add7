import type { IncomingMessage, ServerResponse } from 'node:http';

/** The part of a Node HTTP(S) server that request observers listen on. */
export interface HttpRequestEmitter {
  prependListener(
    event: 'request',
    listener: (req: IncomingMessage, res: ServerResponse) => void,
  ): unknown;
  removeListener(
    event: 'request',
    listener: (req: IncomingMessage, res: ServerResponse) => void,
  ): unknown;
}

/** True when `server` emits Node's `request` events (a Node HTTP(S) server). */
export function isHttpRequestEmitter(server: unknown): server is HttpRequestEmitter {
  const s = server as Partial<Record<keyof HttpRequestEmitter, unknown>> | null | undefined;
  return typeof s?.prependListener === 'function' && typeof s.removeListener === 'function';
}

/** The part of a Node HTTP(S) server the drain uses. */
export interface DrainableHttpServer extends HttpRequestEmitter {
  closeIdleConnections(): void;
}

/** True when `server` is a Node HTTP(S) server whose keep-alive sockets can be drained. */
export function isDrainableHttpServer(server: unknown): server is DrainableHttpServer {
  return (
    isHttpRequestEmitter(server) &&
    typeof (server as Partial<DrainableHttpServer>).closeIdleConnections === 'function'
  );
}

/**
 * Makes keep-alive connections end after their current response once shutdown begins.
 *
 * Node's `server.close()` stops accepting and closes the sockets idle at that moment, but a
 * socket busy with a request stays open after its response for the whole keep-alive timeout,
 * delaying shutdown by seconds. So: from {@link startDraining} on, responses not yet started go
 * out with `Connection: close` (Node then ends the socket after them); from {@link startClosing}
 * on (the HTTP server is about to close), a socket whose response already promised keep-alive
 * is closed as soon as it turns idle. Idle sockets are not touched while draining: closing one
 * while a client is reusing it would fail that client's request.
 */
export class KeepAliveDrain {
  private readonly inFlight = new Set<ServerResponse>();
  private phase: 'serving' | 'draining' | 'closing' = 'serving';

  constructor(private readonly server: DrainableHttpServer) {}

  /** Requests whose response has not finished yet. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Starts tracking requests. */
  attach(): void {
    this.server.prependListener('request', this.onRequest);
  }

  /** Stops tracking requests. */
  detach(): void {
    this.server.removeListener('request', this.onRequest);
    this.inFlight.clear();
  }

  /** Shutdown began: every response from now on closes its connection. */
  startDraining(): void {
    if (this.phase === 'serving') this.phase = 'draining';
    this.refuseKeepAlive();
  }

  /** The server is about to close: sockets left idle by a finishing response are closed too. */
  startClosing(): void {
    this.phase = 'closing';
    this.refuseKeepAlive();
  }

  private readonly onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
    if (this.phase !== 'serving') res.shouldKeepAlive = false;
    this.inFlight.add(res);
    res.on('close', this.onResponseClose);
  };

  /** A response ended: forget it; while closing, its now idle socket is closed too. */
  private readonly responseClosed = (res: ServerResponse): void => {
    this.inFlight.delete(res);
    // After 'close' the socket is idle (or gone); closeIdleConnections only touches idle ones.
    if (this.phase === 'closing') setImmediate(() => this.server.closeIdleConnections());
  };

  /** The 'close' listener of every tracked response (emitted once per response). */
  private readonly onResponseClose = ((closed) =>
    function (this: ServerResponse): void {
      closed(this);
    })(this.responseClosed);

  private refuseKeepAlive(): void {
    for (const res of this.inFlight) {
      if (!res.headersSent) res.shouldKeepAlive = false;
    }
  }
}
