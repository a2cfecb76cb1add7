import { hostname } from 'node:os';

import type { Document, ObjectId } from 'bson';
import { Long } from 'bson';

import type { WireConnection } from './mongo-wire-connection.js';
import {
  MAX_BSON_OBJECT_SIZE,
  MAX_MESSAGE_SIZE_BYTES,
  MAX_WRITE_BATCH_SIZE,
} from './mongo-wire-limits.js';
import type { WireConnectionStats } from './mongo-wire-options.js';
import { SUPPORTED_COMPRESSORS } from './wire-protocol.js';

const LOGICAL_SESSION_TIMEOUT_MINUTES = 30;

/** Traffic counters of one server, as `serverStatus.network` and `opcounters` report them. */
export class WireCounters {
  bytesIn = 0;
  bytesOut = 0;
  requests = 0;
  /** zlib traffic as mongod's serverStatus.network.compression.zlib reports it. */
  readonly zlib = {
    compressor: { bytesIn: 0, bytesOut: 0 },
    decompressor: { bytesIn: 0, bytesOut: 0 },
  };
  /** Commands received, by name. */
  readonly seen = new Map<string, number>();

  /** Counts one command. */
  count(name: string): void {
    this.seen.set(name, (this.seen.get(name) ?? 0) + 1);
  }
}

/** What `serverStatus` reports on. */
export interface StatusSource {
  version: string;
  port: number;
  startedAt: number;
  counters: WireCounters;
  connections: WireConnectionStats;
}

/** The `hello`/`isMaster` reply; the first one on a connection negotiates compression. */
export function helloReply(
  conn: WireConnection,
  name: string,
  cmd: Document,
  server: {
    processId: ObjectId;
    counter: number;
    maxWireVersion: number;
    member?: (Document & { writable: boolean }) | undefined;
  },
): Document {
  const doc: Document = {};
  const { writable = true, ...member } = server.member ?? {};
  doc[name === 'hello' ? 'isWritablePrimary' : 'ismaster'] = writable;
  Object.assign(doc, member);
  doc.topologyVersion = { processId: server.processId, counter: Long.fromNumber(server.counter) };
  doc.maxBsonObjectSize = MAX_BSON_OBJECT_SIZE;
  doc.maxMessageSizeBytes = MAX_MESSAGE_SIZE_BYTES;
  doc.maxWriteBatchSize = MAX_WRITE_BATCH_SIZE;
  doc.localTime = new Date();
  doc.logicalSessionTimeoutMinutes = LOGICAL_SESSION_TIMEOUT_MINUTES;
  doc.connectionId = conn.id;
  doc.minWireVersion = 0;
  doc.maxWireVersion = server.maxWireVersion;
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

/** The `buildInfo` reply. */
export function buildInfoReply(version: string): Document {
  const versionArray = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  while (versionArray.length < 4) versionArray.push(0);
  return {
    version: version,
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

/** The `serverStatus` reply, with true socket and traffic counts. */
export function serverStatusReply(s: StatusSource): Document {
  const uptimeMillis = Date.now() - s.startedAt;
  const seen = (n: string): number => s.counters.seen.get(n) ?? 0;
  const total = [...s.counters.seen.values()].reduce((a, b) => a + b, 0);
  const crud = seen('insert') + seen('find') + seen('update') + seen('delete') + seen('getMore');
  return {
    host: `${hostname()}:${s.port}`,
    version: s.version,
    process: 'mongod',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor(uptimeMillis / 1000),
    uptimeMillis: Long.fromNumber(uptimeMillis),
    uptimeEstimate: Long.fromNumber(Math.floor(uptimeMillis / 1000)),
    localTime: new Date(),
    connections: s.connections,
    network: {
      bytesIn: Long.fromNumber(s.counters.bytesIn),
      bytesOut: Long.fromNumber(s.counters.bytesOut),
      compression: {
        zlib: {
          compressor: {
            bytesIn: Long.fromNumber(s.counters.zlib.compressor.bytesIn),
            bytesOut: Long.fromNumber(s.counters.zlib.compressor.bytesOut),
          },
          decompressor: {
            bytesIn: Long.fromNumber(s.counters.zlib.decompressor.bytesIn),
            bytesOut: Long.fromNumber(s.counters.zlib.decompressor.bytesOut),
          },
        },
      },
      numRequests: Long.fromNumber(s.counters.requests),
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
