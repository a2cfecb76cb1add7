import { HistogramSeries, type PoolMetrics, PoolTimeoutError } from '@nest-pools/core';

import { REDIS_DB_SYSTEM } from './redis-pool.constants.js';
import { COMMAND_TIMED_OUT_MESSAGE } from './redis-pool.timeouts.js';

/**
 * Short, bounded `error_type` label of a Redis failure: the reply error's code (`WRONGTYPE`,
 * `READONLY`, `MOVED`…), `timeout`, `connection_closed`, `max_retries`, `offline_queue_full`,
 * `acquire_timeout`, or the error class name in snake case.
 * @param err Whatever a command or the pool rejected with.
 */
export function classifyRedisError(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown';
  if (err instanceof PoolTimeoutError) return 'acquire_timeout';
  if (err.name === 'ReplyError') {
    const code = /^([A-Z][A-Z_]+)\b/.exec(err.message)?.[1];
    return code === undefined ? 'reply_error' : code.toLowerCase();
  }
  if (err.message === COMMAND_TIMED_OUT_MESSAGE || err.message.startsWith('Socket timeout')) {
    return 'timeout';
  }
  if (err.message === 'Connection is closed.') return 'connection_closed';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code.toLowerCase();
  if (err.name === 'MaxRetriesPerRequestError') return 'max_retries';
  if (err.name === 'RedisOfflineQueueFullError') return 'offline_queue_full';
  return (
    err.name
      .replace(/Error$/, '')
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase() || 'error'
  );
}

/** Counts of one pool's connections, written to the gauges. */
export interface RedisConnectionCounts {
  /** Dedicated connections open and not lent. */
  idle: number;
  /** Dedicated connections lent, plus the main client while it is connected. */
  used: number;
  /** Acquires waiting for a dedicated connection. */
  pending: number;
}

/**
 * One pool's view of the shared {@link PoolMetrics}: every write carries
 * `db_client_connection_pool_name` and `db_system_name="redis"` (or `pool_name` and
 * `pool_system="redis"`).
 */
export class RedisPoolMetrics {
  private readonly db: { db_client_connection_pool_name: string; db_system_name: string };
  private readonly pool: { pool_name: string; pool_system: string };
  /** The wait and use histograms of this pool, bound once: observed on every lease. */
  private readonly waitTime: HistogramSeries;
  private readonly useTime: HistogramSeries;

  /**
   * @param metrics The application's shared pool metrics.
   * @param poolName Value of the `pool_name` label.
   */
  constructor(
    private readonly metrics: PoolMetrics,
    private readonly poolName: string,
  ) {
    this.db = { db_client_connection_pool_name: poolName, db_system_name: REDIS_DB_SYSTEM };
    this.pool = { pool_name: poolName, pool_system: REDIS_DB_SYSTEM };
    this.waitTime = new HistogramSeries(metrics.waitTime, this.db);
    this.useTime = new HistogramSeries(metrics.useTime, this.db);
  }

  /** Records the limits (`db_client_connection_max`, `…_idle_min`) and zeroes the counters. */
  limits(max: number, min: number): void {
    this.metrics.connectionMax.set(this.db, max);
    this.metrics.connectionIdleMin.set(this.db, min);
    this.metrics.initPoolCounters(this.poolName, REDIS_DB_SYSTEM, {
      connectionPool: true,
      clearable: false,
    });
  }

  /** Records connection counts by state and the pending acquires. */
  connections(counts: RedisConnectionCounts): void {
    this.metrics.connectionCount.set(
      { ...this.db, db_client_connection_state: 'idle' },
      counts.idle,
    );
    this.metrics.connectionCount.set(
      { ...this.db, db_client_connection_state: 'used' },
      counts.used,
    );
    this.metrics.pendingRequests.set(this.db, counts.pending);
  }

  /** One acquire gave up waiting. */
  acquireTimeout(): void {
    this.metrics.timeouts.inc(this.db);
  }

  /** Seconds an acquire waited. */
  waited(seconds: number): void {
    this.waitTime.observe(seconds);
  }

  /** Seconds a dedicated connection was held. */
  used(seconds: number): void {
    this.useTime.observe(seconds);
  }

  /** Seconds a new dedicated connection took to become ready. */
  created(seconds: number): void {
    this.metrics.createTime.observe(this.db, seconds);
  }

  /** One failure, labelled by {@link classifyRedisError}. */
  error(err: unknown): void {
    this.metrics.errors.inc({ ...this.pool, error_type: classifyRedisError(err) });
  }

  /** A dedicated connection was held past the leak threshold. */
  leak(): void {
    this.metrics.leaks.inc(this.pool);
  }

  /** The main client started reconnecting. */
  reconnect(): void {
    this.metrics.reconnects.inc(this.pool);
  }

  /** Removes every label set of this pool (on close). */
  forget(): void {
    this.metrics.forgetPool(this.poolName);
  }
}
