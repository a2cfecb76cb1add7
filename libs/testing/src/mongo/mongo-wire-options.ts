/** Options of {@link MongoWireServer}. */
export interface MongoWireServerOptions {
  /**
   * Interface to bind. Keep the loopback default unless a container needs otherwise: the
   * server has no authentication.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * TCP port; 0 picks a free one. After the first start the chosen port is kept, so
   * `stop()`/`start()` and `refuseConnections(false)` come back on the same port.
   * @default 0
   */
  port?: number;
  /**
   * Version reported by `buildInfo`/`serverStatus`.
   * @default '8.0.0'
   */
  version?: string;
  /**
   * `maxWireVersion` announced in the handshake (25 = MongoDB 8.0).
   * @default 25
   */
  maxWireVersion?: number;
  /**
   * Connections accepted at once; further ones are closed on accept (like mongod's
   * `net.maxIncomingConnections`). `serverStatus.connections.available` is this minus `current`.
   * @default 838860
   */
  maxIncomingConnections?: number;
  /**
   * Receives one line per notable event (start, stop, protocol errors).
   * @default undefined (silent)
   */
  log?: (line: string) => void;
  /**
   * Listen with TLS only (as mongod's `net.tls.mode: requireTLS`): PEM key and certificate, and
   * optionally the CA of client certificates (not requested). See `makeTestCertificates()`.
   * @default undefined (plain TCP)
   */
  tls?: WireTlsOptions;
}

/** TLS material of {@link MongoWireServerOptions.tls}, as PEM strings or buffers. */
export interface WireTlsOptions {
  /** Private key of the server certificate. */
  key: string | Buffer;
  /** Server certificate (chain). */
  cert: string | Buffer;
  /**
   * CA bundle (only needed for client certificates, which are not requested).
   * @default undefined
   */
  ca?: string | Buffer;
}

/** What {@link MongoWireServer.failNext} makes the matching commands answer. */
export interface FailNextOptions {
  /** Server error code, e.g. 11600 (InterruptedAtShutdown) or 91 (ShutdownInProgress). */
  code: number;
  /**
   * `errmsg` of the error document.
   * @default 'Failing command via MongoWireServer.failNext'
   */
  errmsg?: string;
  /**
   * `codeName` of the error document.
   * @default the mongod name of known codes, else ''
   */
  codeName?: string;
  /**
   * Command names that consume the failure (`find`, `insert`, `ping`…).
   * @default every command except the handshake (`hello`, `isMaster`, `ismaster`)
   */
  commands?: string[];
  /**
   * `errorLabels` of the error document (e.g. `['RetryableWriteError']`).
   * @default undefined
   */
  errorLabels?: string[];
  /**
   * Close the connection instead of answering (a network error for the driver).
   * @default false
   */
  closeConnection?: boolean;
}

/** Connection counters as `serverStatus.connections` reports them. */
export interface WireConnectionStats {
  /** Open client sockets. */
  current: number;
  /** `maxIncomingConnections - current`. */
  available: number;
  /** Sockets accepted since the server object was created. */
  totalCreated: number;
  /** Sockets with a command in progress (awaitable hellos excluded). */
  active: number;
  /** Sockets closed on accept because `maxIncomingConnections` was reached. */
  rejected: number;
  /** Sockets streaming hello replies to a driver monitor. */
  exhaustHello: number;
  /** Sockets waiting in an awaitable hello. */
  awaitingTopologyChanges: number;
}
