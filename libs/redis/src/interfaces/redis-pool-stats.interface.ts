import type { PoolBreakerState } from '@nest-pools/core';

import type { RedisPoolConfig } from '../config/index.js';
import type { RedisDedicatedPoolStats } from '../redis-dedicated.pool.js';

/** State of the main (multiplexed) client. */
export interface RedisMainClientStats {
  /** ioredis status: `wait`, `connecting`, `connect`, `ready`, `reconnecting`, `close`, `end`. */
  status: string;
  /** Whether commands go straight to the server (`status === 'ready'`). */
  connected: boolean;
  /** Reconnect attempts since start. */
  reconnects: number;
  /** Commands waiting for the connection (bounded by `offlineQueueMax`). */
  offlineQueue: number;
}

/** What `RedisPoolService.getPoolStats(name)` reports. */
export interface RedisPoolStats extends RedisDedicatedPoolStats {
  /** Pool name. */
  name: string;
  /** `standalone`, `sentinel` or `cluster`. */
  topology: RedisPoolConfig['topology'];
  /** The main client. */
  main: RedisMainClientStats;
  /** The main client's circuit breaker: `closed`, `open` (commands fail at once) or `half-open`. */
  breaker: PoolBreakerState;
}

/** Details a health check reports. */
export interface RedisHealthDetails {
  topology: RedisPoolConfig['topology'];
  /** Round trip of the PING, in milliseconds. */
  pingMs: number;
  /** INFO fields, when asked for. */
  info?: Record<string, string>;
  /** `cluster_state` and slot figures of CLUSTER INFO (Cluster only). */
  cluster?: Record<string, string>;
}
