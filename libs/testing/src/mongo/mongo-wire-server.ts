import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

import { ObjectId } from 'bson';

import type { WireConnection } from './mongo-wire-connection.js';
import { connectionStats, delayOn, newConnection } from './mongo-wire-connection.js';
import type { DispatchHost } from './mongo-wire-dispatch.js';
import { WireDispatcher } from './mongo-wire-dispatch.js';
import { MongoWireEngine } from './mongo-wire-engine.js';
import { WireFaults } from './mongo-wire-faults.js';
import type {
  FailNextOptions,
  MongoWireServerOptions,
  WireConnectionStats,
  WireTlsOptions,
} from './mongo-wire-options.js';
import type { WireMemberRole } from './mongo-wire-role.js';
import { WireCounters } from './mongo-wire-status.js';
import { OpCode } from './wire-protocol.js';

/**
 * A MongoDB wire-protocol server for tests and local development. It is **not a database**:
 * data lives in memory, there is no auth, no transactions, no durability. Alone it is a
 * standalone mongod; {@link MongoWireReplicaSet} runs several as replica-set members over one
 * store. With `tls` it listens with a certificate.
 *
 * It speaks OP_MSG (body and document-sequence sections, checksum flag tolerated, zlib
 * compression), answers the legacy OP_QUERY handshake, streams awaitable `hello` replies to
 * driver monitors, and runs CRUD, cursors, indexes (unique enforced) and aggregation through
 * mingo. Fault injection (latency, failures, socket closes, refusal, hang, restart) lets pool
 * suites watch the real driver react.
 *
 * @example
 * ```ts
 * const server = await MongoWireServer.create();
 * await mongoose.connect(server.uri('app'), { serverSelectionTimeoutMS: 1000 });
 * server.setLatency(200, ['find']);
 * server.failNext(1, { code: 11600 });
 * await mongoose.disconnect();
 * await server.stop();
 * ```
 */
export class MongoWireServer {
  private readonly engine: MongoWireEngine;
  private readonly options: Required<Omit<MongoWireServerOptions, 'log' | 'port' | 'tls'>> & {
    log?: (line: string) => void;
    tls?: WireTlsOptions;
  };
  private listener?: Server;
  private readonly closingListeners = new Set<Promise<void>>();
  private readonly connections = new Set<WireConnection>();
  private boundPort: number;
  private running = false;
  private refusing = false;
  private hanging = false;
  private processId = new ObjectId();
  private topologyCounter = 0;
  private readonly topologyWaiters = new Set<() => void>();
  private startedAt = Date.now();
  private nextConnectionId = 1;
  private nextRequestId = 1;
  private accepted = 0;
  private rejected = 0;
  private readonly counters = new WireCounters();
  private readonly faults = new WireFaults();
  private readonly dispatcher = new WireDispatcher(this.dispatchHost());

  /**
   * @param options see {@link MongoWireServerOptions}
   * @param role replica-set membership, given by {@link MongoWireReplicaSet} (standalone without)
   */
  constructor(
    options: MongoWireServerOptions = {},
    private readonly role?: WireMemberRole,
  ) {
    this.engine = role?.engine ?? new MongoWireEngine();
    this.options = {
      host: options.host ?? '127.0.0.1',
      version: options.version ?? '8.0.0',
      maxWireVersion: options.maxWireVersion ?? 25,
      maxIncomingConnections: options.maxIncomingConnections ?? 838_860,
      log: options.log,
      ...(options.tls ? { tls: options.tls } : {}),
    };
    this.boundPort = options.port ?? 0;
  }

  /** Creates a server and starts it. */
  static async create(options?: MongoWireServerOptions): Promise<MongoWireServer> {
    const server = new MongoWireServer(options);
    await server.start();
    return server;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Starts listening (on the same port as before after a `stop()`); a new `processId` is
   * announced, as after a real restart. Data survives a stop/start; cursors do not.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.processId = new ObjectId();
    this.topologyCounter = 0;
    this.startedAt = Date.now();
    this.refusing = false;
    await this.listen();
    this.running = true;
    this.options.log?.(`MongoWireServer listening on ${this.url}`);
  }

  /** Stops listening, closes every client socket and forgets open cursors. Idempotent. */
  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    this.hanging = false;
    this.closeListener();
    const closing = [...this.connections].map((conn) => {
      conn.socket.destroy();
      return conn.whenClosed;
    });
    await Promise.all([...closing, ...this.closingListeners]);
    this.engine.clearCursors();
    if (wasRunning) this.options.log?.(`MongoWireServer on port ${this.boundPort} stopped`);
  }

  private listen(): Promise<void> {
    const tls = this.options.tls;
    const server: Server = tls
      ? createTlsServer({ key: tls.key, cert: tls.cert, ...(tls.ca ? { ca: tls.ca } : {}) }, (s) =>
          this.accept(s),
        ).on('tlsClientError', (e) => this.options.log?.(`TLS handshake refused: ${e.message}`))
      : createServer((socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        server.close();
        reject(
          new Error(
            `MongoWireServer could not listen on ${this.options.host}:${this.boundPort}: ${error.message}. ` +
              'Free the port or start the server with port 0.',
            { cause: error },
          ),
        );
      };
      server.once('error', onError);
      server.listen(this.boundPort, this.options.host, () => {
        server.off('error', onError);
        // Accept failures (e.g. out of file descriptors) must not crash the test process.
        server.on('error', (error: Error) =>
          this.options.log?.(`listener error: ${error.message}`),
        );
        const address = server.address();
        if (address && typeof address === 'object') this.boundPort = address.port;
        this.listener = server;
        resolve();
      });
    });
  }

  private closeListener(): void {
    const server = this.listener;
    if (!server) return;
    this.listener = undefined;
    // The listening handle closes at once; the callback waits for this server's sockets.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.closingListeners.add(closed);
    void closed.then(() => this.closingListeners.delete(closed));
  }

  /** True between `start()` and `stop()`. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Bound host. */
  get host(): string {
    return this.options.host;
  }

  /** Bound port (0 before the first start when port 0 was asked). */
  get port(): number {
    return this.boundPort;
  }

  /** `mongodb://host:port` (no database). */
  get url(): string {
    return `mongodb://${this.options.host}:${this.boundPort}`;
  }

  /** Connection string for `db` (with `directConnection=true`, as for a standalone). */
  uri(db = 'test'): string {
    return `${this.url}/${db}?directConnection=true`;
  }

  // ---------------------------------------------------------------- fault injection

  /**
   * Delays commands by `ms` before they run. Without `commands` it applies to every command
   * except the handshake (`hello`/`isMaster`); with names, only to those (handshake names
   * included when listed). `ms = 0` removes the delay. A delay that reaches the command's
   * `maxTimeMS` answers `MaxTimeMSExpired` (code 50) after `maxTimeMS`, as mongod does.
   */
  setLatency(ms: number, commands?: string | string[]): void {
    this.faults.setLatency(ms, commands);
  }

  /**
   * Makes the next `n` matching commands fail with an error document (or a closed socket with
   * `closeConnection`). Calls queue up: the first registered failure is consumed first.
   */
  failNext(n: number, options: FailNextOptions): void {
    this.faults.failNext(n, options);
  }

  /**
   * Closes every client socket now (drivers see network errors); `keepMonitors` spares the
   * sockets streaming or awaiting `hello` (driver monitors). Returns how many closed.
   */
  closeAllClientSockets(options: { keepMonitors?: boolean } = {}): number {
    let count = 0;
    for (const conn of this.connections) {
      if (options.keepMonitors === true && (conn.streamingHello || conn.awaitingHello)) continue;
      conn.socket.destroy();
      count += 1;
    }
    return count;
  }

  /**
   * Bumps `topologyVersion.counter` and answers every awaitable `hello` at once, as a member
   * does on a state change. Called by {@link MongoWireReplicaSet}.
   */
  topologyChanged(): void {
    this.topologyCounter += 1;
    const waiters = [...this.topologyWaiters];
    this.topologyWaiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * `true` stops listening (new connections get ECONNREFUSED; open sockets stay); `false`
   * listens again on the same port.
   */
  async refuseConnections(on: boolean): Promise<void> {
    if (!this.running || on === this.refusing) return;
    if (on) {
      this.refusing = true;
      this.closeListener();
    } else {
      await this.listen();
      this.refusing = false;
    }
  }

  /**
   * `true`: connections are still accepted but no request is answered (requests received
   * meanwhile are never answered, streaming hellos pause). `false` answers again.
   */
  hang(on = true): void {
    this.hanging = on;
  }

  /** Removes latency, pending failures, hang and refusal. */
  async clearFaults(): Promise<void> {
    this.faults.clear();
    this.hanging = false;
    await this.refuseConnections(false);
  }

  // ---------------------------------------------------------------- observability

  /** Client sockets open now. */
  get openSockets(): number {
    return this.connections.size;
  }

  /** Sockets accepted since the server object was created (across restarts). */
  get totalAccepted(): number {
    return this.accepted;
  }

  /** Commands received, by name (a snapshot; handshakes included). */
  get commandsSeen(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.counters.seen);
  }

  /** Forgets the command counts. */
  resetCommandsSeen(): void {
    this.counters.seen.clear();
  }

  /** Connection counters, as `serverStatus.connections` reports them. */
  connectionStats(): WireConnectionStats {
    return connectionStats(this.connections, {
      maxIncoming: this.options.maxIncomingConnections,
      accepted: this.accepted,
      rejected: this.rejected,
    });
  }

  // ---------------------------------------------------------------- connections

  private accept(socket: Socket): void {
    if (this.connections.size >= this.options.maxIncomingConnections) {
      this.rejected += 1;
      socket.destroy();
      return;
    }
    this.accepted += 1;
    socket.setNoDelay(true);
    const { conn, markClosed } = newConnection(this.nextConnectionId++, socket);
    this.connections.add(conn);
    socket.on('data', (chunk: Buffer) => {
      this.counters.bytesIn += chunk.length;
      let messages: Buffer[];
      try {
        messages = conn.framer.push(chunk);
      } catch (error) {
        this.protocolFailure(conn, error);
        return;
      }
      for (const message of messages) {
        conn.queue = conn.queue
          .then(() => this.dispatcher.onMessage(conn, message))
          .catch((error: unknown) => this.protocolFailure(conn, error));
      }
    });
    socket.on('error', () => {
      // Resets from clients are normal (pools closing); 'close' does the bookkeeping.
    });
    socket.on('close', () => {
      conn.closed = true;
      for (const timer of conn.timers) clearTimeout(timer);
      conn.timers.clear();
      this.connections.delete(conn);
      markClosed();
    });
  }

  private protocolFailure(conn: WireConnection, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.options.log?.(`closing connection ${conn.id}: protocol error: ${reason}`);
    conn.socket.destroy();
  }

  private send(conn: WireConnection, bytes: Buffer): void {
    if (conn.closed || conn.socket.destroyed) return;
    this.counters.bytesOut += bytes.length;
    if (bytes.readInt32LE(12) === OpCode.OP_COMPRESSED) {
      this.counters.zlib.compressor.bytesIn += bytes.readInt32LE(20);
      this.counters.zlib.compressor.bytesOut += bytes.length - 25;
    }
    conn.socket.write(bytes);
  }

  private dispatchHost(): DispatchHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter runs later, after the constructor set the engine
    const server = this;
    return {
      get engine() {
        return server.engine;
      },
      faults: this.faults,
      counters: this.counters,
      hanging: () => this.hanging,
      processId: () => this.processId,
      topologyCounter: () => this.topologyCounter,
      role: () => this.role,
      awaitTopologyChange: (conn, ms) => delayOn(conn, ms, this.topologyWaiters),
      port: () => this.boundPort,
      startedAt: () => this.startedAt,
      options: () => this.options,
      connectionStats: () => this.connectionStats(),
      nextRequestId: () => this.nextRequestId++,
      send: (conn, bytes) => this.send(conn, bytes),
      delay: (conn, ms) => delayOn(conn, ms),
      protocolFailure: (conn, error) => this.protocolFailure(conn, error),
    };
  }
}
