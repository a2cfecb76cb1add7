import type { EventEmitter } from 'node:events';

import { HistogramSeries, type PoolMetrics } from '@nest-pools/core';
import type { mongo } from 'mongoose';

import { MONGO_DB_SYSTEM } from './mongo-pool.constants.js';
import type { MongoLeakDetector } from './mongo-pool.leak-detector.js';

/** Driver-side counts of one pool, kept from the driver's CMAP events. */
export interface MongoPoolCounts {
  /** Open connections (being established, idle or checked out). */
  open: number;
  /** Connections ready and not checked out. */
  idle: number;
  /** Connections checked out by an operation. */
  used: number;
  /** Connections being established (TCP, TLS, handshake, auth). */
  establishing: number;
  /** Operations waiting to check a connection out. */
  waiting: number;
  /** Connections created since the pool started. */
  totalCreated: number;
  /** Check-outs that failed because the wait-queue timeout expired. */
  checkOutTimeouts: number;
  /** Times the driver cleared the pool (after a network error or a server restart). */
  cleared: number;
}

/** Latest topology as the driver's monitoring reported it. */
export interface MongoTopologySnapshot {
  /** `Single`, `ReplicaSetWithPrimary`, `ReplicaSetNoPrimary`, `Sharded`, `LoadBalanced` or `Unknown`. */
  type: string;
  /** Addresses (`host:port`) of every server the driver knows about. */
  servers: string[];
  /** Address of the replica-set primary the driver knows, if any. */
  primary?: string;
}

interface DbLabels {
  db_client_connection_pool_name: string;
  db_system_name: string;
}

interface Labels {
  db: DbLabels;
  pool: { pool_name: string; pool_system: string };
  idle: DbLabels & { db_client_connection_state: string };
  used: DbLabels & { db_client_connection_state: string };
}

type Listener = (...args: unknown[]) => void;

/** The client as a plain emitter: the typed overloads cannot take an event name variable. */
function emitter(client: mongo.MongoClient): EventEmitter {
  return client;
}

/**
 * Turns the driver's connection-pool (CMAP) and topology events into counts, Prometheus metrics
 * and leak-detection input. Gauges are written once per burst of events (on the next turn of the
 * event loop) and only when their value changed, so a busy pool does not pay label lookups per
 * event.
 */
export class MongoPoolMonitor {
  private readonly connections = new Map<string, boolean /* ready */>();
  private readonly checkedOut = new Map<string, number /* since, ms */>();
  private ready = 0;
  private waiting = 0;
  private totalCreated = 0;
  private checkOutTimeouts = 0;
  private cleared = 0;
  private topology: MongoTopologySnapshot = { type: 'Unknown', servers: [] };
  private flush: NodeJS.Immediate | undefined;
  private written = { idle: -1, used: -1, waiting: -1 };
  private readonly labels: Labels;
  /** The pool's wait and use histograms, bound once: observed on every operation. */
  private readonly waitTime: HistogramSeries;
  private readonly useTime: HistogramSeries;
  private readonly listeners: Array<[string, Listener]> = [];
  private client: mongo.MongoClient | undefined;

  constructor(
    private readonly poolName: string,
    private readonly metrics: PoolMetrics,
    limits: { maxPoolSize: number; minPoolSize: number },
    private readonly leaks?: MongoLeakDetector,
  ) {
    const db = { db_client_connection_pool_name: poolName, db_system_name: MONGO_DB_SYSTEM };
    this.labels = {
      db,
      pool: { pool_name: poolName, pool_system: MONGO_DB_SYSTEM },
      idle: { ...db, db_client_connection_state: 'idle' },
      used: { ...db, db_client_connection_state: 'used' },
    };
    this.waitTime = new HistogramSeries(metrics.waitTime, db);
    this.useTime = new HistogramSeries(metrics.useTime, db);
    metrics.connectionMax.set(db, limits.maxPoolSize);
    metrics.connectionIdleMin.set(db, limits.minPoolSize);
    metrics.initPoolCounters(poolName, MONGO_DB_SYSTEM, { connectionPool: true, clearable: true });
    this.writeGauges();
  }

  /** Subscribes to `client`'s events; call before `client.connect()` so nothing is missed. */
  attach(client: mongo.MongoClient): void {
    this.client = client;
    this.on('connectionCreated', (e: mongo.ConnectionCreatedEvent) => {
      this.connections.set(key(e), false);
      this.totalCreated += 1;
      this.touch();
    });
    this.on('connectionReady', (e: mongo.ConnectionReadyEvent) => {
      const k = key(e);
      if (this.connections.get(k) !== true) this.ready += 1;
      this.connections.set(k, true);
      this.metrics.createTime.observe(this.labels.db, e.durationMS / 1000);
      this.touch();
    });
    this.on('connectionClosed', (e: mongo.ConnectionClosedEvent) => {
      const k = key(e);
      if (this.connections.get(k) === true) this.ready -= 1;
      this.connections.delete(k);
      this.checkedOut.delete(k);
      this.leaks?.release(k);
      if (e.reason === 'error') this.error('connection_error');
      this.touch();
    });
    this.on('connectionCheckOutStarted', (e: mongo.ConnectionCheckOutStartedEvent) => {
      this.waiting += 1;
      this.leaks?.checkOutStarted(e.address);
      this.touch();
    });
    this.on('connectionCheckedOut', (e: mongo.ConnectionCheckedOutEvent) => {
      const k = key(e);
      this.waiting = Math.max(0, this.waiting - 1);
      this.checkedOut.set(k, performance.now());
      this.waitTime.observe(e.durationMS / 1000);
      this.leaks?.track(k, e.connectionId, e.address, e.durationMS);
      this.touch();
    });
    this.on('connectionCheckOutFailed', (e: mongo.ConnectionCheckOutFailedEvent) => {
      this.waiting = Math.max(0, this.waiting - 1);
      this.leaks?.checkOutFailed(e.address, e.durationMS);
      if (e.reason === 'timeout') {
        this.checkOutTimeouts += 1;
        this.metrics.timeouts.inc(this.labels.db);
        this.error('checkout_timeout');
      } else if (e.reason === 'connectionError') {
        this.error('connection_error');
      } else {
        this.error('pool_closed');
      }
      this.touch();
    });
    this.on('connectionCheckedIn', (e: mongo.ConnectionCheckedInEvent) => {
      const k = key(e);
      const since = this.checkedOut.get(k);
      if (since !== undefined) {
        this.checkedOut.delete(k);
        this.useTime.observe((performance.now() - since) / 1000);
      }
      this.leaks?.release(k);
      this.touch();
    });
    this.on('connectionPoolCleared', () => {
      this.cleared += 1;
      this.metrics.poolCleared.inc(this.labels.pool);
    });
    this.on('serverHeartbeatFailed', () => this.error('heartbeat_failed'));
    this.on('topologyDescriptionChanged', (e: mongo.TopologyDescriptionChangedEvent) => {
      const servers = [...e.newDescription.servers.values()];
      const primary = servers.find((d) => String(d.type) === 'RSPrimary')?.address;
      this.topology = {
        type: String(e.newDescription.type),
        servers: servers.map((d) => d.address),
        ...(primary !== undefined ? { primary } : {}),
      };
    });
  }

  /** Unsubscribes from the client (the counts stay readable) and writes the final gauges. */
  detach(): void {
    if (this.flush !== undefined) {
      clearImmediate(this.flush);
      this.flush = undefined;
      this.writeGauges();
    }
    const client = this.client;
    if (client !== undefined) {
      for (const [event, listener] of this.listeners) emitter(client).off(event, listener);
    }
    this.listeners.length = 0;
    this.client = undefined;
  }

  /** Counts an error of `errorType` in `pool_errors_total`. */
  error(errorType: string): void {
    this.metrics.errors.inc({ ...this.labels.pool, error_type: errorType });
  }

  /** Counts a reconnection after a lost connection in `pool_reconnects_total`. */
  reconnected(): void {
    this.metrics.reconnects.inc(this.labels.pool);
  }

  /** Counts a leak in `pool_leak_detections_total`. */
  leak(): void {
    this.metrics.leaks.inc(this.labels.pool);
  }

  /** Current driver-side counts. */
  counts(): MongoPoolCounts {
    const ready = this.ready;
    const used = this.checkedOut.size;
    return {
      open: this.connections.size,
      idle: Math.max(0, ready - used),
      used,
      establishing: this.connections.size - ready,
      waiting: this.waiting,
      totalCreated: this.totalCreated,
      checkOutTimeouts: this.checkOutTimeouts,
      cleared: this.cleared,
    };
  }

  /** Latest topology type and known servers. */
  topologySnapshot(): MongoTopologySnapshot {
    return { ...this.topology, servers: [...this.topology.servers] };
  }

  private on<E>(event: string, handler: (event: E) => void): void {
    const listener = handler as unknown as Listener;
    this.listeners.push([event, listener]);
    if (this.client !== undefined) emitter(this.client).on(event, listener);
  }

  private touch(): void {
    if (this.flush !== undefined) return;
    // One gauge refresh per I/O turn: all events of a burst of completions coalesce into it.
    this.flush = setImmediate(() => {
      this.flush = undefined;
      this.writeGauges();
    });
  }

  private writeGauges(): void {
    const { idle, used, waiting } = this.counts();
    const last = this.written;
    if (idle !== last.idle) this.metrics.connectionCount.set(this.labels.idle, idle);
    if (used !== last.used) this.metrics.connectionCount.set(this.labels.used, used);
    if (waiting !== last.waiting) this.metrics.pendingRequests.set(this.labels.db, waiting);
    this.written = { idle, used, waiting };
  }
}

function key(e: { address: string; connectionId?: number | string }): string {
  return `${e.address}#${String(e.connectionId)}`;
}
