import type { Document, ObjectId } from 'bson';
import { Long } from 'bson';

import { toJsNumber } from './bson-values.js';
import type { WireConnection } from './mongo-wire-connection.js';
import {
  CLOSED,
  HANDSHAKE_COMMANDS,
  isAwaitableHello,
  maxAwaitTime,
  sameTopologyVersion,
} from './mongo-wire-connection.js';
import type { MongoWireEngine } from './mongo-wire-engine.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import type { WireFaults } from './mongo-wire-faults.js';
import type { LegacyAnswer } from './mongo-wire-legacy.js';
import { answerLegacy, answerOpQuery } from './mongo-wire-legacy.js';
import type { WireConnectionStats } from './mongo-wire-options.js';
import type { WireMemberRole } from './mongo-wire-role.js';
import type { WireCounters } from './mongo-wire-status.js';
import { buildInfoReply, helloReply, serverStatusReply } from './mongo-wire-status.js';
import type { SupportedCompressor, WireRequest } from './wire-protocol.js';
import {
  decodeMessage,
  encodeOpMsg,
  encodeOpReply,
  OpCode,
  OpMsgFlag,
  QUERY_FAILURE_FLAG,
  WireProtocolError,
} from './wire-protocol.js';

/** mongod's NotPrimaryError category (its replies carry the member's `topologyVersion`). */
const NOT_PRIMARY_CODES = new Set<number>([
  MongoErrorCode.NotWritablePrimary,
  MongoErrorCode.NotPrimaryNoSecondaryOk,
]);

/** What the dispatcher needs from the server that owns the sockets. */
export interface DispatchHost {
  readonly engine: MongoWireEngine;
  readonly faults: WireFaults;
  readonly counters: WireCounters;
  hanging(): boolean;
  processId(): ObjectId;
  topologyCounter(): number;
  role(): WireMemberRole | undefined;
  awaitTopologyChange(conn: WireConnection, ms: number): Promise<void>;
  port(): number;
  startedAt(): number;
  options(): { version: string; maxWireVersion: number; log?: (line: string) => void };
  connectionStats(): WireConnectionStats;
  nextRequestId(): number;
  send(conn: WireConnection, bytes: Buffer): void;
  delay(conn: WireConnection, ms: number): Promise<void>;
  protocolFailure(conn: WireConnection, error: unknown): void;
}

/**
 * Answers requests as a mongod: decodes each message, applies injected faults, runs handshake
 * and server commands itself and data commands through the engine, and answers legacy opcodes
 * the way mongod 6+ does. Without a role it is a standalone; a replica-set member's role adds
 * its `hello` fields, refuses what its state refuses and applies retried writes once.
 */
export class WireDispatcher {
  constructor(private readonly host: DispatchHost) {}

  /** Decodes and answers one complete message. */
  async onMessage(conn: WireConnection, message: Buffer): Promise<void> {
    if (conn.closed) return;
    this.host.counters.requests += 1;
    // A hanging server reads requests and never answers them.
    if (this.host.hanging()) return;
    let request: WireRequest;
    try {
      request = decodeMessage(message);
    } catch (error) {
      if (!(error instanceof WireProtocolError)) throw error;
      this.host.protocolFailure(conn, error);
      return;
    }
    if ((request.kind === 'msg' || request.kind === 'query') && request.compressor) {
      this.host.counters.zlib.decompressor.bytesIn += message.length - 25;
      this.host.counters.zlib.decompressor.bytesOut += message.readInt32LE(20);
    }
    const responseTo = request.header.requestId;
    switch (request.kind) {
      case 'unsupported': {
        const doc = new CommandError(MongoErrorCode.BadValue, request.reason).toDocument();
        this.host.send(conn, encodeOpMsg(this.host.nextRequestId(), responseTo, doc));
        return;
      }
      case 'refused': {
        const doc = request.error.toDocument();
        const reply =
          request.header.opCode === OpCode.OP_QUERY
            ? encodeOpReply(this.host.nextRequestId(), responseTo, doc, request.compressor)
            : encodeOpMsg(this.host.nextRequestId(), responseTo, doc, 0, request.compressor);
        this.host.send(conn, reply);
        return;
      }
      case 'legacy':
        this.answerLegacy(conn, responseTo, answerLegacy(request));
        return;
      case 'query': {
        const name = Object.keys(request.command)[0] ?? '';
        this.host.counters.count(name);
        const answer = answerOpQuery(request, name);
        if (answer.kind !== 'handshake') {
          this.answerLegacy(conn, responseTo, answer, request.compressor);
          return;
        }
        const doc = await this.runCommand(conn, name, request.command);
        if (this.host.hanging()) return;
        this.host.send(
          conn,
          encodeOpReply(this.host.nextRequestId(), responseTo, doc, request.compressor),
        );
        return;
      }
      default:
        await this.onOpMsg(conn, request.flags, request.command, responseTo, request.compressor);
    }
  }

  /** Sends what mongod sends for a legacy message: an OP_REPLY or nothing, never OP_MSG. */
  private answerLegacy(
    conn: WireConnection,
    responseTo: number,
    answer: LegacyAnswer,
    compressor?: SupportedCompressor,
  ): void {
    if (answer.kind === 'silent') {
      this.host
        .options()
        .log?.(`connection ${conn.id}: ${answer.reason}; no reply (fire-and-forget)`);
      return;
    }
    if (answer.kind !== 'reply') return;
    const flags = answer.queryFailure ? QUERY_FAILURE_FLAG : 0;
    this.host.send(
      conn,
      encodeOpReply(this.host.nextRequestId(), responseTo, answer.doc, compressor, flags),
    );
  }

  private async onOpMsg(
    conn: WireConnection,
    flags: number,
    command: Document,
    responseTo: number,
    compressor: SupportedCompressor | undefined,
  ): Promise<void> {
    const name = Object.keys(command)[0] ?? '';
    this.host.counters.count(name);
    const noReply = (flags & OpMsgFlag.moreToCome) !== 0;
    const exhaust = (flags & OpMsgFlag.exhaustAllowed) !== 0;
    const awaitable = HANDSHAKE_COMMANDS.has(name) && isAwaitableHello(command);
    if (awaitable && exhaust && !noReply) {
      // Streaming monitor: the reply and every later one carry moreToCome.
      this.streamHello(conn, name, command, responseTo, compressor).catch((error: unknown) =>
        this.host.protocolFailure(conn, error),
      );
      return;
    }
    const doc = await this.runCommand(conn, name, command);
    if (noReply || this.host.hanging() || doc === CLOSED) return;
    this.host.send(conn, encodeOpMsg(this.host.nextRequestId(), responseTo, doc, 0, compressor));
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
      const matches = sameTopologyVersion(
        command.topologyVersion,
        this.host.processId(),
        this.host.topologyCounter(),
      );
      if (!first || matches) {
        conn.awaitingHello = true;
        await this.host.awaitTopologyChange(conn, maxAwaitTime(command));
        conn.awaitingHello = false;
      }
      first = false;
      // Latency named for the hello command itself also slows the streamed replies.
      const latency = this.host.faults.namedLatency(name);
      if (latency > 0) await this.host.delay(conn, latency);
      if (conn.closed) return;
      if (this.host.hanging()) continue;
      const doc = this.hello(conn, name, command);
      const id = this.host.nextRequestId();
      this.host.send(conn, encodeOpMsg(id, responseTo, doc, OpMsgFlag.moreToCome, compressor));
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
      this.host.options().log?.(`command ${name} failed inside MongoWireServer: ${message}`);
      return { ok: 0, errmsg: message, code: 1, codeName: 'InternalError' };
    } finally {
      conn.activeCommands -= 1;
    }
  }

  private async execute(conn: WireConnection, name: string, cmd: Document): Promise<Document> {
    const latency = this.host.faults.latencyFor(name);
    if (latency > 0) {
      const maxTimeMS = toJsNumber(cmd.maxTimeMS) ?? 0;
      if (maxTimeMS > 0 && latency >= maxTimeMS) {
        await this.host.delay(conn, maxTimeMS);
        throw new CommandError(MongoErrorCode.MaxTimeMSExpired, 'operation exceeded time limit');
      }
      await this.host.delay(conn, latency);
    }
    const failure = this.host.faults.takeFailure(name);
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
      const current = sameTopologyVersion(
        cmd.topologyVersion,
        this.host.processId(),
        this.host.topologyCounter(),
      );
      if (isAwaitableHello(cmd) && current) {
        conn.awaitingHello = true;
        await this.host.awaitTopologyChange(conn, maxAwaitTime(cmd));
        conn.awaitingHello = false;
      }
      return this.hello(conn, name, cmd);
    }
    if (typeof cmd.$db !== 'string') {
      throw new CommandError(40571, 'OP_MSG requests require a $db argument');
    }
    const role = this.host.role();
    if (role) this.asMember(() => role.admit(name, cmd));
    else this.assertTxnNumberAllowed(cmd);
    const own =
      this.serverCommand(conn, name, cmd) ?? this.asMember(() => role?.serverCommand(name, cmd));
    if (own) return own;
    const db = cmd.$db;
    if (!role) return this.host.engine.run(name, cmd, { db });
    const answer = role.run(name, cmd, (engine, statements) =>
      engine.run(name, cmd, statements ? { db, statements } : { db }),
    );
    if (answer.close === true) {
      conn.socket.destroy();
      return CLOSED;
    }
    if (answer.delayMs !== undefined && answer.delayMs > 0)
      await this.host.delay(conn, answer.delayMs);
    return answer.reply;
  }

  /**
   * Runs a member-state check; a "not primary" refusal gets the member's `topologyVersion`, as
   * mongod 4.4+ appends it to every NotPrimaryError, so a driver can tell the error is newer
   * than a monitor reply still on its way (and ignore that stale reply).
   */
  private asMember<T>(check: () => T): T {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof CommandError) || !NOT_PRIMARY_CODES.has(error.code)) throw error;
      throw new CommandError(error.code, error.message, {
        ...error.extra,
        topologyVersion: {
          processId: this.host.processId(),
          counter: Long.fromNumber(this.host.topologyCounter()),
        },
      });
    }
  }

  private serverCommand(conn: WireConnection, name: string, cmd: Document): Document | undefined {
    switch (name) {
      case 'ping':
      case 'endSessions':
      case 'killAllSessions':
        return { ok: 1 };
      case 'buildInfo':
      case 'buildinfo':
        return buildInfoReply(this.host.options().version);
      case 'serverStatus':
        return serverStatusReply({
          version: this.host.options().version,
          port: this.host.port(),
          startedAt: this.host.startedAt(),
          counters: this.host.counters,
          connections: this.host.connectionStats(),
        });
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

  /**
   * A standalone refuses transaction numbers, bare (retryable writes, with `lsid`) or with
   * `startTransaction`/`autocommit`, as mongod does. A replica-set member would accept them.
   */
  private assertTxnNumberAllowed(cmd: Document): void {
    if (cmd.txnNumber !== undefined || cmd.startTransaction === true || cmd.autocommit === false) {
      throw new CommandError(
        MongoErrorCode.IllegalOperation,
        'Transaction numbers are only allowed on a replica set member or mongos',
      );
    }
  }

  private hello(conn: WireConnection, name: string, cmd: Document): Document {
    return helloReply(conn, name, cmd, {
      processId: this.host.processId(),
      counter: this.host.topologyCounter(),
      maxWireVersion: this.host.options().maxWireVersion,
      member: this.host.role()?.helloFields(),
    });
  }
}
