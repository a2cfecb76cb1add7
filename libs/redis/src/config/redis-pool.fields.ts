import {
  booleanField,
  breakerEnabledField,
  breakerFailuresField,
  breakerHalfOpenField,
  countField,
  durationField,
  enumField,
  hostListField,
  operationMetricsField,
  type PoolFields,
  poolMetricsField,
  textField,
  urlField,
} from '@nest-pools/core';
import { z } from 'zod';

/** How ioredis reaches the server(s), derived from the sentinel / cluster variables. */
export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

/** Where cluster reads go (ioredis `scaleReads`). */
export const REDIS_CLUSTER_SCALE_READS = ['master', 'slave', 'all'] as const;

/** Where cluster reads go: `master` only, replicas (`slave`), or `all` nodes. */
export type RedisClusterScaleReads = (typeof REDIS_CLUSTER_SCALE_READS)[number];

const redisUrl = z
  .string()
  .trim()
  .regex(
    /^rediss?:\/\/([^@/?#]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:\d{1,5})?(\/\d{0,5})?\/?(\?[^#]*)?$/i,
  )
  .refine((url) => {
    const port = /^rediss?:\/\/(?:[^@/?#]*@)?(?:\[[^\]]+\]|[^:/?#]+):(\d+)/i.exec(url)?.[1];
    return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
  });

/**
 * Every variable of a Redis pool, in reference order: env name and aliases, option key, unit,
 * default, allowed values and meaning. The config type ({@link RedisPoolConfig}), the generated
 * tables of docs/configuration.md and `config:explain` all come from this map.
 */
export const REDIS_POOL_FIELDS = {
  /**
   * `redis://` or `rediss://` (TLS) URL with optional credentials and db index. With sentinels it
   * carries the master's credentials, db and TLS; with a cluster the nodes' credentials. Env
   * `REDIS_URL`.
   * @default 'redis://localhost:6379'
   */
  url: urlField({
    env: 'REDIS_URL',
    default: 'redis://localhost:6379',
    schema: redisUrl,
    allowed: 'a redis:// or rediss:// URL: [user:password@]host[:port 1–65535][/db number]',
    description: 'Server URL (credentials, TLS via rediss://, db index).',
  }),
  /**
   * Most dedicated connections (blocking commands, WATCH/MULTI, SUBSCRIBE). Env
   * `REDIS_MAX_CONNECTIONS`; presets 20 / 50 / 100.
   * @default 100
   */
  maxConnections: countField({
    env: 'REDIS_MAX_CONNECTIONS',
    default: 100,
    min: 1,
    description: 'Most dedicated connections (blocking commands, WATCH/MULTI, SUBSCRIBE).',
  }),
  /**
   * Dedicated connections kept open. Env `REDIS_MIN_CONNECTIONS`.
   * @default 0
   */
  minConnections: countField({
    env: 'REDIS_MIN_CONNECTIONS',
    default: 0,
    min: 0,
    description: 'Dedicated connections kept open; at most maxConnections.',
  }),
  /**
   * Connect timeout. Env `REDIS_CONNECT_TIMEOUT` (seconds).
   * @default 2000
   */
  connectTimeoutMs: durationField({
    env: 'REDIS_CONNECT_TIMEOUT',
    envUnit: 'seconds',
    default: 2000,
    minMs: 1,
    description: 'Connect timeout.',
  }),
  /**
   * Per-command timeout. Env `REDIS_SOCKET_TIMEOUT` (seconds).
   * @default 2000
   */
  commandTimeoutMs: durationField({
    env: 'REDIS_SOCKET_TIMEOUT',
    envUnit: 'seconds',
    default: 2000,
    minMs: 1,
    description: 'Per-command timeout.',
  }),
  /**
   * TCP keep-alive initial delay; 0 = the OS default delay. Env `REDIS_KEEPALIVE` (seconds).
   * @default 30000
   */
  keepAliveMs: durationField({
    env: 'REDIS_KEEPALIVE',
    envUnit: 'seconds',
    default: 30_000,
    minMs: 0,
    zeroMeans: 'the OS default delay',
    description: 'TCP keep-alive initial delay.',
  }),
  /**
   * Interval of the background PING that keeps idle connections verified; 0 = off. Env
   * `REDIS_HEALTH_CHECK_INTERVAL` (seconds).
   * @default 30000
   */
  healthCheckIntervalMs: durationField({
    env: 'REDIS_HEALTH_CHECK_INTERVAL',
    envUnit: 'seconds',
    default: 30_000,
    minMs: 0,
    zeroMeans: 'off',
    description: 'Interval of the background PING that verifies idle connections.',
  }),
  /**
   * Reconnect-and-retry attempts of one command before it fails. Env
   * `REDIS_MAX_RETRIES_PER_REQUEST`.
   * @default 3
   */
  maxRetriesPerRequest: countField({
    env: 'REDIS_MAX_RETRIES_PER_REQUEST',
    default: 3,
    min: 0,
    description: 'Reconnect-and-retry attempts of one command before it fails.',
  }),
  /**
   * Send again, after a reconnect, the commands that were written but unanswered when the
   * connection dropped (ioredis `autoResendUnfulfilledCommands`). At-least-once: a non-idempotent
   * command (INCR, LPUSH) the server ran before the drop runs twice. Off: such commands fail
   * with `RedisCommandInterruptedError`. Env `REDIS_RESEND_UNFULFILLED`.
   * @default true
   */
  resendUnfulfilled: booleanField({
    env: 'REDIS_RESEND_UNFULFILLED',
    default: true,
    description:
      'Resend commands left unanswered by a dropped connection after the reconnect (at-least-once).',
  }),
  /**
   * Queue commands while disconnected (bounded by offlineQueueMax). Env `REDIS_OFFLINE_QUEUE`.
   * @default true
   */
  enableOfflineQueue: booleanField({
    env: 'REDIS_OFFLINE_QUEUE',
    default: true,
    description: 'Queue commands while disconnected (bounded by offlineQueueMax).',
  }),
  /**
   * Most commands queued while disconnected; further commands fail at once. Env
   * `REDIS_OFFLINE_QUEUE_MAX`.
   * @default 1000
   */
  offlineQueueMax: countField({
    env: 'REDIS_OFFLINE_QUEUE_MAX',
    default: 1000,
    min: 1,
    description: 'Most commands queued while disconnected; further commands fail at once.',
  }),
  /**
   * Batch commands issued in the same tick into one pipeline. Env `REDIS_AUTO_PIPELINING`. Off
   * by default, as in ioredis: on loopback it ranged from 0.44× to 3.3× of off (docs/benchmarks.md).
   * @default false
   */
  autoPipelining: booleanField({
    env: 'REDIS_AUTO_PIPELINING',
    // Off like ioredis itself: on loopback its effect swung from 0.44x to 3.3x between runs, and
    // with one batch in flight per node a dead socket can delay errors to twice the timeout.
    default: false,
    description: 'Batch commands issued in the same tick into one pipeline.',
  }),
  /**
   * First reconnect delay (exponential backoff with jitter). Env `REDIS_RETRY_BASE_DELAY_MS`.
   * @default 100
   */
  retryBaseDelayMs: durationField({
    env: 'REDIS_RETRY_BASE_DELAY_MS',
    envUnit: 'milliseconds',
    default: 100,
    minMs: 1,
    description:
      'First reconnect delay (exponential backoff with jitter); at most retryMaxDelayMs.',
  }),
  /**
   * Largest reconnect delay. Env `REDIS_RETRY_MAX_DELAY_MS`.
   * @default 5000
   */
  retryMaxDelayMs: durationField({
    env: 'REDIS_RETRY_MAX_DELAY_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'Largest reconnect delay.',
  }),
  /**
   * How long acquiring a dedicated connection may wait. Env `REDIS_ACQUIRE_TIMEOUT_MS`.
   * @default 5000
   */
  acquireTimeoutMs: durationField({
    env: 'REDIS_ACQUIRE_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'How long acquiring a dedicated connection may wait.',
  }),
  /**
   * Idle dedicated connections above minConnections close after this; 0 = never. Env
   * `REDIS_IDLE_TIMEOUT_MS`.
   * @default 30000
   */
  idleTimeoutMs: durationField({
    env: 'REDIS_IDLE_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 30_000,
    minMs: 0,
    zeroMeans: 'never',
    description: 'Idle dedicated connections above minConnections close after this.',
  }),
  /**
   * A dedicated connection held longer than this is reported as a leak; 0 = off. Env
   * `REDIS_LEAK_DETECTION_THRESHOLD_MS`.
   * @default 0
   */
  leakDetectionThresholdMs: durationField({
    env: 'REDIS_LEAK_DETECTION_THRESHOLD_MS',
    envUnit: 'milliseconds',
    default: 0,
    minMs: 0,
    zeroMeans: 'off',
    description: 'A dedicated connection held longer than this is reported as a leak.',
  }),
  /**
   * Time limit of one health PING. Env `REDIS_HEALTH_TIMEOUT_MS`.
   * @default 1000
   */
  healthTimeoutMs: durationField({
    env: 'REDIS_HEALTH_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 1000,
    minMs: 1,
    description: 'Time limit of one health PING.',
  }),
  /**
   * How long QUIT may take at shutdown before the sockets are cut. Env `REDIS_SHUTDOWN_TIMEOUT_MS`.
   * @default 5000
   */
  shutdownTimeoutMs: durationField({
    env: 'REDIS_SHUTDOWN_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'How long QUIT may take at shutdown before the sockets are cut.',
  }),
  /**
   * Fail bootstrap when Redis is unreachable instead of starting degraded. Env `REDIS_FAIL_FAST`.
   * @default false
   */
  failFast: booleanField({
    env: 'REDIS_FAIL_FAST',
    default: false,
    description: 'Fail bootstrap when Redis is unreachable instead of starting degraded.',
  }),
  /**
   * Sentinel addresses; setting them selects the sentinel topology. Env `REDIS_SENTINELS`
   * (`host:port,…`).
   * @default undefined
   */
  sentinels: hostListField({
    env: 'REDIS_SENTINELS',
    default: undefined,
    description: 'Sentinel addresses; selects the sentinel topology (needs REDIS_SENTINEL_NAME).',
  }),
  /**
   * Master group name the sentinels monitor (required with sentinels). Env `REDIS_SENTINEL_NAME`.
   * @default undefined
   */
  sentinelName: textField({
    env: 'REDIS_SENTINEL_NAME',
    default: undefined,
    maxLength: 256,
    description: 'Master group name the sentinels monitor.',
  }),
  /**
   * Password of the sentinels themselves (secret). Env `REDIS_SENTINEL_PASSWORD`.
   * @default undefined
   */
  sentinelPassword: {
    ...textField({
      env: 'REDIS_SENTINEL_PASSWORD',
      default: undefined,
      maxLength: 1024,
      description: 'Password of the sentinels themselves.',
    }),
    secret: true,
  },
  /**
   * Cluster seed nodes; setting them selects the cluster topology. Env `REDIS_CLUSTER_NODES`
   * (`host:port,…`).
   * @default undefined
   */
  clusterNodes: hostListField({
    env: 'REDIS_CLUSTER_NODES',
    default: undefined,
    description: 'Cluster seed nodes; selects the cluster topology.',
  }),
  /**
   * PEM file of the certificate authority (or bundle) that signed the server's certificate, for
   * `rediss://` servers whose CA is not in Node's trust store (a private CA). Added to Node's
   * trusted CAs; certificate and host name verification stay on. Env `REDIS_TLS_CA_FILE`.
   * @default undefined (Node's trust store only)
   */
  tlsCaFile: textField({
    env: 'REDIS_TLS_CA_FILE',
    default: undefined,
    maxLength: 4096,
    description:
      "PEM file of the CA that signed the server certificate (rediss://), trusted besides Node's CAs.",
  }),
  /**
   * Where cluster reads go. Env `REDIS_CLUSTER_SCALE_READS`.
   * @default 'master'
   */
  clusterScaleReads: enumField({
    env: 'REDIS_CLUSTER_SCALE_READS',
    default: 'master',
    values: REDIS_CLUSTER_SCALE_READS,
    description: 'Where cluster reads go: master, replicas (slave) or all nodes.',
  }),
  /**
   * Let the circuit breaker open: after `breakerFailures` connection failures or timeouts in a
   * row, calls to this Redis pool fail at once with `PoolUnavailableError` until a trial call
   * succeeds. Env `REDIS_BREAKER_ENABLED`.
   * @default true
   */
  breakerEnabled: breakerEnabledField('REDIS_BREAKER_ENABLED'),
  /**
   * Consecutive connection-level failures or timeouts that open the circuit; application
   * errors never count. Env `REDIS_BREAKER_FAILURES`.
   * @default 5
   */
  breakerFailures: breakerFailuresField('REDIS_BREAKER_FAILURES'),
  /**
   * How long an open circuit fails calls before one trial call. Env `REDIS_BREAKER_HALF_OPEN_MS`.
   * @default 1000
   */
  breakerHalfOpenMs: breakerHalfOpenField('REDIS_BREAKER_HALF_OPEN_MS'),
  /**
   * Time every command of the main client and the dedicated connections into
   * `db_client_operation_duration_seconds{db_operation_name="GET",…}`. Env
   * `REDIS_OPERATION_METRICS`.
   * @default false
   */
  operationMetrics: operationMetricsField('REDIS_OPERATION_METRICS'),
  /**
   * Record this pool's metrics (connection counts, wait/use/create times, timeouts, errors,
   * breaker state) on the application's registry; `false` records and exports nothing for it.
   * Env `REDIS_POOL_METRICS`.
   * @default true
   */
  poolMetrics: poolMetricsField('REDIS_POOL_METRICS'),
} satisfies PoolFields;
