import type { PoolBreakerState, PoolSourceOptions } from '@nest-pools/core';

import type { MongoPoolConfig } from '../config/index.js';

/**
 * Options of `MongoPoolModule.forRoot()` / the `forRootAsync()` factory: any subset of
 * {@link MongoPoolConfig}. Every key left out falls back to its `MONGODB_*` env variable (read
 * through `ConfigService`), then to the `APP_ENV` preset, then to the library default — unless
 * `ignoreEnv` is set. Options are validated exactly like the environment: one startup error lists
 * every problem.
 *
 * The pool `name` and `isGlobal` are given next to the options (`forRoot({ name, ... })`,
 * `forRootAsync({ name, useFactory })`), never from the factory.
 */
export type MongoPoolModuleOptions = Partial<Omit<MongoPoolConfig, 'name'>> & PoolSourceOptions;

/** Connection counts the server reports in `serverStatus.connections` (for all its clients). */
export interface MongoServerConnections {
  /** Incoming connections open on the server. */
  current: number;
  /** Connections the server can still accept. */
  available: number;
  /** Connections created on the server since it started. */
  totalCreated: number;
  /** Connections with an operation in progress (absent on servers that do not report it). */
  active?: number;
}

/** Lifecycle state of a pool. */
export type MongoPoolState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/**
 * Snapshot of one pool. The top-level counts are the driver's own (this process only); `server`
 * is what the server reports for all its clients, when the user may run `serverStatus`.
 */
export interface MongoPoolStats {
  /** Pool name. */
  name: string;
  /** `connecting` until the first connection, then `connected` / `disconnected`; `closed` after shutdown. */
  state: MongoPoolState;
  /** Open connections of this pool (being established, idle or checked out). */
  current: number;
  /** Idle connections ready to be checked out. */
  available: number;
  /** Connections checked out by an operation. */
  active: number;
  /** Connections created since the pool started. */
  totalCreated: number;
  /** Operations waiting for a connection. */
  waiting: number;
  /** Configured `maxPoolSize`. */
  maxPoolSize: number;
  /** Configured `minPoolSize`. */
  minPoolSize: number;
  /** Check-outs that timed out in the wait queue. */
  checkOutTimeouts: number;
  /** Times the driver cleared the pool. */
  poolCleared: number;
  /** Check-outs held past the leak threshold. */
  leaksDetected: number;
  /** Topology type as the driver sees it (`Single`, `ReplicaSetWithPrimary`, …, `Unknown`). */
  topologyType: string;
  /** Number of servers the driver knows about. */
  knownServers: number;
  /** `serverStatus.connections`, or `null` when it could not be read (see `serverStatusError`). */
  server: MongoServerConnections | null;
  /** Why `server` is `null` (not connected, not authorized, timed out); redacted. */
  serverStatusError?: string;
}

/** Details a health check reports next to its status and latency. */
export interface MongoPoolHealthDetails {
  /** Pool state at the time of the check. */
  state: MongoPoolState;
  /** Open connections of this pool. */
  current: number;
  /** Idle connections. */
  available: number;
  /** Checked-out connections. */
  active: number;
  /** Operations waiting for a connection. */
  waiting: number;
  /** Configured `maxPoolSize`. */
  maxPoolSize: number;
  /** Topology type as the driver sees it. */
  topologyType: string;
  /** `host:port` of the replica-set primary the driver knows (absent without one). */
  primary?: string;
  /**
   * Every connection is checked out or operations are waiting for one. A saturated pool is still
   * `up`: the health ping has its own connection and never queues behind application work.
   */
  saturated: boolean;
  /** The pool's circuit breaker: `closed`, `open` (operations fail at once) or `half-open`. */
  breaker: PoolBreakerState;
}
