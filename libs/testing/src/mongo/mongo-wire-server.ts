import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { hostname } from 'node:os';

import type { Document } from 'bson';
import { Long, ObjectId } from 'bson';

import { toJsNumber } from './bson-values.js';
import { MongoWireEngine } from './mongo-wire-engine.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import type { SupportedCompressor, WireRequest } from './wire-protocol.js';
import {
  decodeMessage,
  encodeOpMsg,
  encodeOpReply,
  MessageFramer,
  OpCode,
  OpMsgFlag,
  SUPPORTED_COMPRESSORS,
  WireProtocolError,
} from './wire-protocol.js';

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

interface WireConnection {
  id: number;
  socket: Socket;
  framer: MessageFramer;
  queue: Promise<void>;
  compressors: SupportedCompressor[];
  handshakeDone: boolean;
  activeCommands: number;
  awaitingHello: boolean;
  streamingHello: boolean;
  timers: Set<NodeJS.Timeout>;
  closed: boolean;
  /** Settles once the socket has closed and the bookkeeping is done. */
  whenClosed: Promise<void>;
}

interface PendingFailure extends FailNextOptions {
  remaining: number;
}

const HANDSHAKE_COMMANDS = new Set(['hello', 'isMaster', 'ismaster']);
const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
const MAX_WRITE_BATCH_SIZE = 100_000;
const LOGICAL_SESSION_TIMEOUT_MINUTES = 30;

/**
 * A MongoDB wire-protocol server for tests and local development. It is **not a database**:
 * data lives in memory, there is no auth, no replication, no transactions, no durability.
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
  private readonly engine = new MongoWireEngine();
  private readonly options: Required<Omit<MongoWireServerOptions, 'log' | 'port'>> & {
    log?: (line: string) => void;
  };
  private listener?: Server;
  private readonly closingListeners = new Set<Promise<void>>();
  private readonly connections = new Set<WireConnection>();
  private boundPort: number;
  private running = false;
  private refusing = false;
  private hanging = false;
  private processId = new ObjectId();
  private startedAt = Date.now();
  private nextConnectionId = 1;
  private nextRequestId = 1;
  private accepted = 0;
  private rejected = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  /** zlib traffic as mongod's serverStatus.network.compression.zlib reports it. */
  private readonly zlib = {
    compressor: { bytesIn: 0, bytesOut: 0 },
    decompressor: { bytesIn: 0, bytesOut: 0 },
  };
  private requests = 0;
  private readonly seen = new Map<string, number>();
  private globalLatencyMs = 0;
  private readonly commandLatencyMs = new Map<string, number>();
  private readonly failures: PendingFailure[] = [];

  /** @param options see {@link MongoWireServerOptions} */
  constructor(options: MongoWireServerOptions = {}) {
    this.options = {
      host: options.host ?? '127.0.0.1',
      version: options.version ?? '8.0.0',
      maxWireVersion: options.maxWireVersion ?? 25,
      maxIncomingConnections: options.maxIncomingConnections ?? 838_860,
      log: options.log,
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
    const server = createServer((socket) => this.accept(socket));
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
        server.on('error', (error) => this.options.log?.(`listener error: ${error.message}`));
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
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be >= 0 ms, got ${ms}`);
    if (commands === undefined) {
      this.globalLatencyMs = ms;
      return;
    }
    for (const name of Array.isArray(commands) ? commands : [commands]) {
      if (ms === 0) this.commandLatencyMs.delete(name);
      else this.commandLatencyMs.set(name, ms);
    }
  }

  /**
   * Makes the next `n` matching commands fail with an error document (or a closed socket with
   * `closeConnection`). Calls queue up: the first registered failure is consumed first.
   */
  failNext(n: number, options: FailNextOptions): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`failNext needs n >= 1, got ${n}`);
    this.failures.push({ ...options, remaining: n });
  }

  /** Closes every client socket now (drivers see network errors). Returns how many closed. */
  closeAllClientSockets(): number {
    const count = this.connections.size;
    for (const conn of this.connections) conn.socket.destroy();
    return count;
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
    this.globalLatencyMs = 0;
    this.commandLatencyMs.clear();
    this.failures.length = 0;
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
    return Object.fromEntries(this.seen);
  }

  /** Forgets the command counts. */
  resetCommandsSeen(): void {
    this.seen.clear();
  }

  /** Connection counters, as `serverStatus.connections` reports them. */
  connectionStats(): WireConnectionStats {
    let active = 0;
    let exhaustHello = 0;
    let awaiting = 0;
    for (const conn of this.connections) {
      if (conn.activeCommands > 0 && !conn.awaitingHello) active += 1;
      if (conn.streamingHello) exhaustHello += 1;
      if (conn.awaitingHello) awaiting += 1;
    }
    return {
      current: this.connections.size,
      available: Math.max(0, this.options.maxIncomingConnections - this.connections.size),
      totalCreated: this.accepted,
      active,
      rejected: this.rejected,
      exhaustHello,
      awaitingTopologyChanges: awaiting,
    };
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
    let markClosed = (): void => undefined;
    const whenClosed = new Promise<void>((resolve) => (markClosed = resolve));
    const conn: WireConnection = {
      id: this.nextConnectionId++,
      socket,
      framer: new MessageFramer(MAX_MESSAGE_SIZE_BYTES),
      queue: Promise.resolve(),
      compressors: [],
      handshakeDone: false,
      activeCommands: 0,
      awaitingHello: false,
      streamingHello: false,
      timers: new Set(),
      closed: false,
      whenClosed,
    };
    this.connections.add(conn);
    socket.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      let messages: Buffer[];
      try {
        messages = conn.framer.push(chunk);
      } catch (error) {
        this.protocolFailure(conn, error);
        return;
      }
      for (const message of messages) {
        conn.queue = conn.queue
          .then(() => this.onMessage(conn, message))
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

  /** Resolves after `ms`, unless the connection closes first (then it never resolves). */
  private delay(conn: WireConnection, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        conn.timers.delete(timer);
        resolve();
      }, ms);
      conn.timers.add(timer);
    });
  }

  private send(conn: WireConnection, bytes: Buffer): void {
    if (conn.closed || conn.socket.destroyed) return;
    this.bytesOut += bytes.length;
    if (bytes.readInt32LE(12) === OpCode.OP_COMPRESSED) {
      this.zlib.compressor.bytesIn += bytes.readInt32LE(20);
      this.zlib.compressor.bytesOut += bytes.length - 25;
    }
    conn.socket.write(bytes);
  }

  private async onMessage(conn: WireConnection, message: Buffer): Promise<void> {
    if (conn.closed) return;
    this.requests += 1;
    // A hanging server reads requests and never answers them.
    if (this.hanging) return;
    let request: WireRequest;
    try {
      request = decodeMessage(message);
    } catch (error) {
      if (!(error instanceof WireProtocolError)) throw error;
      this.protocolFailure(conn, error);
      return;
    }
    if (request.kind !== 'unsupported' && request.compressor) {
      this.zlib.decompressor.bytesIn += message.length - 25;
      this.zlib.decompressor.bytesOut += message.readInt32LE(20);
    }
    const replyId = (): number => this.nextRequestId++;
    if (request.kind === 'unsupported') {
      const doc = new CommandError(MongoErrorCode.BadValue, request.reason).toDocument();
      this.send(conn, encodeOpMsg(replyId(), request.header.requestId, doc));
      return;
    }
    const name = Object.keys(request.command)[0] ?? '';
    this.seen.set(name, (this.seen.get(name) ?? 0) + 1);

    if (request.kind === 'query') {
      let doc: Document;
      if (!request.fullCollectionName.endsWith('.$cmd') || !HANDSHAKE_COMMANDS.has(name)) {
        doc = new CommandError(
          MongoErrorCode.UnsupportedOpQueryCommand,
          `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`,
        ).toDocument();
      } else {
        doc = await this.runCommand(conn, name, request.command);
      }
      if (this.hanging) return;
      this.send(conn, encodeOpReply(replyId(), request.header.requestId, doc, request.compressor));
      return;
    }

    const noReply = (request.flags & OpMsgFlag.moreToCome) !== 0;
    const exhaust = (request.flags & OpMsgFlag.exhaustAllowed) !== 0;
    const awaitable = HANDSHAKE_COMMANDS.has(name) && isAwaitableHello(request.command);
    if (awaitable && exhaust && !noReply) {
      // Streaming monitor: the reply and every later one carry moreToCome.
      this.streamHello(
        conn,
        name,
        request.command,
        request.header.requestId,
        request.compressor,
      ).catch((error: unknown) => this.protocolFailure(conn, error));
      return;
    }
    const doc = await this.runCommand(conn, name, request.command);
    if (noReply || this.hanging || doc === CLOSED) return;
    this.send(conn, encodeOpMsg(replyId(), request.header.requestId, doc, 0, request.compressor));
  }

  private async streamHello(
    conn: WireConnection,
    name: string,
    command: Document,
    requestId: number,
    compressor: SupportedCompressor | undefined,
  ): Promise<void> {
    conn.streamingHello = true;
    let responseTo = requestId;
    let first = true;
    while (!conn.closed) {
      const matches = sameTopologyVersion(command.topologyVersion, this.processId);
      if (!first || matches) {
        conn.awaitingHello = true;
        await this.delay(conn, maxAwaitTime(command));
        conn.awaitingHello = false;
      }
      first = false;
      // Latency named for the hello command itself also slows the streamed replies.
      const latency = this.commandLatencyMs.get(name) ?? 0;
      if (latency > 0) await this.delay(conn, latency);
      if (conn.closed) return;
      if (this.hanging) continue;
      const doc = this.hello(conn, name, command);
      const id = this.nextRequestId++;
      this.send(conn, encodeOpMsg(id, responseTo, doc, OpMsgFlag.moreToCome, compressor));
      responseTo = id;
    }
  }

  /** Runs one command with faults applied; always returns a reply document. */
  private async runCommand(conn: WireConnection, name: string, cmd: Document): Promise<Document> {
    conn.activeCommands += 1;
    try {
      return await this.execute(conn, name, cmd);
    } catch (error) {
      if (error instanceof CommandError) return error.toDocument();
      const message = error instanceof Error ? error.message : String(error);
      this.options.log?.(`command ${name} failed inside MongoWireServer: ${message}`);
      return { ok: 0, errmsg: message, code: 1, codeName: 'InternalError' };
    } finally {
      conn.activeCommands -= 1;
    }
  }

  private latencyFor(name: string): number {
    const specific = this.commandLatencyMs.get(name);
    if (specific !== undefined) return specific;
    return HANDSHAKE_COMMANDS.has(name) ? 0 : this.globalLatencyMs;
  }

  private takeFailure(name: string): PendingFailure | undefined {
    const failure = this.failures.find((f) =>
      f.commands ? f.commands.includes(name) : !HANDSHAKE_COMMANDS.has(name),
    );
    if (!failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
    return failure;
  }

  private async execute(conn: WireConnection, name: string, cmd: Document): Promise<Document> {
    const latency = this.latencyFor(name);
    if (latency > 0) {
      const maxTimeMS = toJsNumber(cmd.maxTimeMS) ?? 0;
      if (maxTimeMS > 0 && latency >= maxTimeMS) {
        await this.delay(conn, maxTimeMS);
        throw new CommandError(MongoErrorCode.MaxTimeMSExpired, 'operation exceeded time limit');
      }
      await this.delay(conn, latency);
    }
    const failure = this.takeFailure(name);
    if (failure) {
      if (failure.closeConnection) {
        conn.socket.destroy();
        return CLOSED;
      }
      throw new CommandError(
        failure.code,
        failure.errmsg ?? 'Failing command via MongoWireServer.failNext',
        {
          ...(failure.codeName !== undefined ? { codeName: failure.codeName } : {}),
          ...(failure.errorLabels ? { errorLabels: failure.errorLabels } : {}),
        },
      );
    }
    if (HANDSHAKE_COMMANDS.has(name)) {
      if (isAwaitableHello(cmd) && sameTopologyVersion(cmd.topologyVersion, this.processId)) {
        conn.awaitingHello = true;
        await this.delay(conn, maxAwaitTime(cmd));
        conn.awaitingHello = false;
      }
      return this.hello(conn, name, cmd);
    }
    if (typeof cmd.$db !== 'string') {
      throw new CommandError(40571, 'OP_MSG requests require a $db argument');
    }
    if (cmd.startTransaction === true || cmd.autocommit === false) {
      throw new CommandError(
        MongoErrorCode.IllegalOperation,
        'Transaction numbers are only allowed on a replica set member or mongos',
      );
    }
    const own = this.serverCommand(conn, name, cmd);
    if (own) return own;
    return this.engine.run(name, cmd, { db: cmd.$db });
  }

  private serverCommand(conn: WireConnection, name: string, cmd: Document): Document | undefined {
    switch (name) {
      case 'ping':
      case 'endSessions':
      case 'killAllSessions':
        return { ok: 1 };
      case 'buildInfo':
      case 'buildinfo':
        return this.buildInfo();
      case 'serverStatus':
        return this.serverStatus();
      case 'connectionStatus':
        return {
          authInfo: {
            authenticatedUsers: [],
            authenticatedUserRoles: [],
            ...(cmd.showPrivileges === true ? { authenticatedUserPrivileges: [] } : {}),
          },
          ok: 1,
        };
      case 'whatsmyuri':
        return { you: `${conn.socket.remoteAddress ?? ''}:${conn.socket.remotePort ?? 0}`, ok: 1 };
      default:
        return undefined;
    }
  }

  private hello(conn: WireConnection, name: string, cmd: Document): Document {
    const doc: Document = {};
    doc[name === 'hello' ? 'isWritablePrimary' : 'ismaster'] = true;
    doc.topologyVersion = { processId: this.processId, counter: Long.fromNumber(0) };
    doc.maxBsonObjectSize = MAX_BSON_OBJECT_SIZE;
    doc.maxMessageSizeBytes = MAX_MESSAGE_SIZE_BYTES;
    doc.maxWriteBatchSize = MAX_WRITE_BATCH_SIZE;
    doc.localTime = new Date();
    doc.logicalSessionTimeoutMinutes = LOGICAL_SESSION_TIMEOUT_MINUTES;
    doc.connectionId = conn.id;
    doc.minWireVersion = 0;
    doc.maxWireVersion = this.options.maxWireVersion;
    doc.readOnly = false;
    if (!conn.handshakeDone) {
      conn.handshakeDone = true;
      const requested: unknown[] = Array.isArray(cmd.compression)
        ? (cmd.compression as unknown[])
        : [];
      conn.compressors = SUPPORTED_COMPRESSORS.filter((c) => requested.includes(c));
      if (Array.isArray(cmd.compression)) doc.compression = conn.compressors;
    }
    if (cmd.helloOk === true) doc.helloOk = true;
    doc.ok = 1;
    return doc;
  }

  private buildInfo(): Document {
    const versionArray = this.options.version.split('.').map((p) => Number.parseInt(p, 10) || 0);
    while (versionArray.length < 4) versionArray.push(0);
    return {
      version: this.options.version,
      gitVersion: 'mongo-wire-server',
      versionArray,
      bits: 64,
      debug: false,
      maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
      storageEngines: ['memory'],
      javascriptEngine: 'none',
      modules: [],
      ok: 1,
    };
  }

  private serverStatus(): Document {
    const uptimeMillis = Date.now() - this.startedAt;
    const seen = (n: string): number => this.seen.get(n) ?? 0;
    const total = [...this.seen.values()].reduce((a, b) => a + b, 0);
    const crud = seen('insert') + seen('find') + seen('update') + seen('delete') + seen('getMore');
    return {
      host: `${hostname()}:${this.boundPort}`,
      version: this.options.version,
      process: 'mongod',
      pid: Long.fromNumber(process.pid),
      uptime: Math.floor(uptimeMillis / 1000),
      uptimeMillis: Long.fromNumber(uptimeMillis),
      uptimeEstimate: Long.fromNumber(Math.floor(uptimeMillis / 1000)),
      localTime: new Date(),
      connections: this.connectionStats(),
      network: {
        bytesIn: Long.fromNumber(this.bytesIn),
        bytesOut: Long.fromNumber(this.bytesOut),
        compression: {
          zlib: {
            compressor: {
              bytesIn: Long.fromNumber(this.zlib.compressor.bytesIn),
              bytesOut: Long.fromNumber(this.zlib.compressor.bytesOut),
            },
            decompressor: {
              bytesIn: Long.fromNumber(this.zlib.decompressor.bytesIn),
              bytesOut: Long.fromNumber(this.zlib.decompressor.bytesOut),
            },
          },
        },
        numRequests: Long.fromNumber(this.requests),
      },
      opcounters: {
        insert: seen('insert'),
        query: seen('find'),
        update: seen('update'),
        delete: seen('delete'),
        getmore: seen('getMore'),
        command: total - crud,
      },
      ok: 1,
    };
  }
}

/** Marker reply: the connection was closed on purpose, nothing is sent. */
const CLOSED: Document = Object.freeze({ closed: true });

function isAwaitableHello(cmd: Document): boolean {
  return cmd.topologyVersion !== undefined && cmd.maxAwaitTimeMS !== undefined;
}

function maxAwaitTime(cmd: Document): number {
  const ms = toJsNumber(cmd.maxAwaitTimeMS) ?? 10_000;
  return Math.max(0, Math.min(ms, 60_000));
}

function sameTopologyVersion(tv: unknown, processId: ObjectId): boolean {
  if (!tv || typeof tv !== 'object') return false;
  const candidate = (tv as { processId?: unknown }).processId;
  return candidate instanceof ObjectId && candidate.equals(processId);
}
