import {
  booleanField,
  breakerEnabledField,
  breakerFailuresField,
  breakerHalfOpenField,
  countField,
  durationField,
  listField,
  operationMetricsField,
  type PoolFields,
  poolMetricsField,
  textField,
  urlField,
} from '@nest-pools/core';
import { z } from 'zod';

/** Wire compressors the MongoDB driver can negotiate. */
export const MONGO_COMPRESSORS = ['zlib', 'zstd', 'snappy'] as const;

/** A wire compressor; `zstd` and `snappy` need their optional driver packages installed. */
export type MongoCompressor = (typeof MONGO_COMPRESSORS)[number];

const MONGO_URL =
  /^mongodb(\+srv)?:\/\/([^@/?#]+@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.%-]+)(:\d{1,5})?(,(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.%-]+)(:\d{1,5})?)*(\/[^?#]*)?(\?[^#]*)?$/i;

const mongoUrl = z
  .string()
  .trim()
  .regex(MONGO_URL)
  .refine(
    (url) =>
      !/^mongodb\+srv:/i.test(url) || /^mongodb\+srv:\/\/([^@/?#]+@)?[^,:/?#]+(\/|\?|$)/i.test(url),
    {
      message: 'mongodb+srv:// takes one host name without a port',
    },
  )
  .refine((url) =>
    [...url.matchAll(/:(\d{1,5})(?=[,/?]|$)/g)].every(
      (m) => Number(m[1]) >= 1 && Number(m[1]) <= 65535,
    ),
  );

/** Why `waitQueueMultiple` is refused, and what to use instead. */
export const WAIT_QUEUE_MULTIPLE_REASON =
  'waitQueueMultiple was removed from the MongoDB Node.js driver (4.0+), which would ignore it; ' +
  'size the pool with maxPoolSize (MONGODB_MAX_POOL_SIZE) and bound waiting with ' +
  'waitQueueTimeoutMS (MONGODB_WAIT_QUEUE_TIMEOUT_MS)';

/**
 * Every variable of a MongoDB pool, in reference order: env name and aliases, option key, unit,
 * default, allowed values and meaning. The config type ({@link MongoPoolConfig}), the generated
 * tables of docs/configuration.md and `config:explain` all come from this map.
 */
export const MONGO_POOL_FIELDS = {
  /**
   * Connection string, `mongodb://` or `mongodb+srv://` (kept as given; shown redacted). Env
   * `MONGODB_URL`.
   * @default 'mongodb://localhost:27017'
   */
  url: urlField({
    env: 'MONGODB_URL',
    default: 'mongodb://localhost:27017',
    schema: mongoUrl,
    allowed:
      'a mongodb:// or mongodb+srv:// connection string with at least one host (ports 1–65535; ' +
      'mongodb+srv:// takes one host without a port)',
    description:
      'Connection string; options in its query string are kept, explicit settings here win.',
  }),
  /**
   * Most connections per server. Env `MONGODB_MAX_POOL_SIZE`; presets 20 / 50 / 100.
   * @default 100
   */
  maxPoolSize: countField({
    env: 'MONGODB_MAX_POOL_SIZE',
    default: 100,
    min: 1,
    description: 'Most connections per server (check-outs beyond it wait in the queue).',
  }),
  /**
   * Connections kept open (and warmed at start). Env `MONGODB_MIN_POOL_SIZE`; presets 2 / 5 / 10.
   * @default 0
   */
  minPoolSize: countField({
    env: 'MONGODB_MIN_POOL_SIZE',
    default: 0,
    min: 0,
    description: 'Connections kept open and warmed at start; at most maxPoolSize.',
  }),
  /**
   * Connections being established at once. Env `MONGODB_MAX_CONNECTING`.
   * @default 2
   */
  maxConnecting: countField({
    env: 'MONGODB_MAX_CONNECTING',
    default: 2,
    min: 1,
    description: 'Connections being established at once (limits connection storms).',
  }),
  /**
   * How long a check-out may wait for a free connection. Env `MONGODB_WAIT_QUEUE_TIMEOUT_MS`.
   * @default 5000
   */
  waitQueueTimeoutMS: durationField({
    env: 'MONGODB_WAIT_QUEUE_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'How long a check-out may wait for a free connection before failing.',
  }),
  /**
   * Idle time after which a pooled connection is closed; 0 = never. Env `MONGODB_MAX_IDLE_TIME_MS`.
   * @default 30000
   */
  maxIdleTimeMS: durationField({
    env: 'MONGODB_MAX_IDLE_TIME_MS',
    envUnit: 'milliseconds',
    default: 30_000,
    minMs: 0,
    zeroMeans: 'never close idle connections',
    description: 'Idle time after which a pooled connection is closed.',
  }),
  /**
   * How long to look for a suitable server. Env `MONGODB_SERVER_SELECTION_TIMEOUT_MS`.
   * @default 3000
   */
  serverSelectionTimeoutMS: durationField({
    env: 'MONGODB_SERVER_SELECTION_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 3000,
    minMs: 1,
    description: 'How long an operation looks for a suitable server before failing.',
  }),
  /**
   * Socket inactivity timeout; 0 = none. Env `MONGODB_SOCKET_TIMEOUT_MS`.
   * @default 20000
   */
  socketTimeoutMS: durationField({
    env: 'MONGODB_SOCKET_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 20_000,
    minMs: 0,
    zeroMeans: 'no socket timeout',
    description: 'Socket inactivity timeout for operations.',
  }),
  /**
   * TCP/TLS connect timeout. Env `MONGODB_CONNECT_TIMEOUT_MS`.
   * @default 10000
   */
  connectTimeoutMS: durationField({
    env: 'MONGODB_CONNECT_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 10_000,
    minMs: 1,
    description: 'TCP and TLS connect timeout.',
  }),
  /**
   * Interval of server monitoring checks (driver minimum 500). Env `MONGODB_HEARTBEAT_FREQUENCY_MS`.
   * @default 10000
   */
  heartbeatFrequencyMS: durationField({
    env: 'MONGODB_HEARTBEAT_FREQUENCY_MS',
    envUnit: 'milliseconds',
    default: 10_000,
    minMs: 500,
    description: 'Interval of server monitoring checks (the driver minimum is 500 ms).',
  }),
  /**
   * Application name sent in the handshake (shows in server logs and `currentOp`). Env
   * `MONGODB_APPNAME`.
   * @default undefined
   */
  appName: textField({
    env: 'MONGODB_APPNAME',
    default: undefined,
    maxLength: 128,
    description: 'Application name sent in the handshake (server logs, currentOp).',
  }),
  /**
   * Wire compressors to offer, in preference order. Env `MONGODB_COMPRESSORS` (comma list).
   * @default []
   */
  compressors: listField({
    env: 'MONGODB_COMPRESSORS',
    default: [],
    values: MONGO_COMPRESSORS,
    none: 'none',
    description: 'Wire compressors to offer; zstd and snappy need their optional packages.',
  }),
  /**
   * Retry a write once on a transient error. Env `MONGODB_RETRY_WRITES`.
   * @default true
   */
  retryWrites: booleanField({
    env: 'MONGODB_RETRY_WRITES',
    default: true,
    description: 'Retry a write once on a transient network error or failover.',
  }),
  /**
   * Retry a read once on a transient error. Env `MONGODB_RETRY_READS`.
   * @default true
   */
  retryReads: booleanField({
    env: 'MONGODB_RETRY_READS',
    default: true,
    description: 'Retry a read once on a transient network error or failover.',
  }),
  /**
   * A checked-out connection held longer than this is reported as a leak; 0 = off. Env
   * `MONGODB_LEAK_DETECTION_THRESHOLD_MS`.
   * @default 0
   */
  leakDetectionThresholdMS: durationField({
    env: 'MONGODB_LEAK_DETECTION_THRESHOLD_MS',
    envUnit: 'milliseconds',
    default: 0,
    minMs: 0,
    zeroMeans: 'off',
    description: 'A connection checked out longer than this is reported as a leak.',
  }),
  /**
   * Capture the check-out stack trace for leak reports (costs a stack per check-out). Env
   * `MONGODB_LEAK_DETECTION_STACKS`.
   * @default false
   */
  leakDetectionStacks: booleanField({
    env: 'MONGODB_LEAK_DETECTION_STACKS',
    default: false,
    description: 'Capture the check-out stack trace for leak reports (one stack per check-out).',
  }),
  /**
   * Fail bootstrap when the server is unreachable at start instead of starting degraded. Env
   * `MONGODB_FAIL_FAST`.
   * @default false
   */
  failFast: booleanField({
    env: 'MONGODB_FAIL_FAST',
    default: false,
    description: 'Fail bootstrap when the server is unreachable instead of starting degraded.',
  }),
  /**
   * Time limit of one health ping. Env `MONGODB_HEALTH_TIMEOUT_MS`.
   * @default 1000
   */
  healthTimeoutMS: durationField({
    env: 'MONGODB_HEALTH_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 1000,
    minMs: 1,
    description: 'Time limit of one health ping.',
  }),
  /**
   * How long closing the pool may take at shutdown. Env `MONGODB_SHUTDOWN_TIMEOUT_MS`.
   * @default 5000
   */
  shutdownTimeoutMS: durationField({
    env: 'MONGODB_SHUTDOWN_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'How long closing the pool may take at shutdown.',
  }),
  /**
   * Open `minPoolSize` connections at start. Env `MONGODB_WARM_UP`.
   * @default true
   */
  warmUp: booleanField({
    env: 'MONGODB_WARM_UP',
    default: true,
    description: 'Open minPoolSize connections at start.',
  }),
  /**
   * Let the circuit breaker open: after `breakerFailures` connection failures or timeouts in a
   * row, calls to this MongoDB pool fail at once with `PoolUnavailableError` until a trial call
   * succeeds. Env `MONGODB_BREAKER_ENABLED`.
   * @default true
   */
  breakerEnabled: breakerEnabledField('MONGODB_BREAKER_ENABLED'),
  /**
   * Consecutive connection-level failures or timeouts that open the circuit; application
   * errors never count. Env `MONGODB_BREAKER_FAILURES`.
   * @default 5
   */
  breakerFailures: breakerFailuresField('MONGODB_BREAKER_FAILURES'),
  /**
   * How long an open circuit fails calls before one trial call. Env `MONGODB_BREAKER_HALF_OPEN_MS`.
   * @default 1000
   */
  breakerHalfOpenMS: breakerHalfOpenField('MONGODB_BREAKER_HALF_OPEN_MS'),
  /**
   * Time every command on the pool's connections, from sending it to its reply, into
   * `db_client_operation_duration_seconds{db_operation_name="find",db_collection_name=…}`. Env
   * `MONGODB_OPERATION_METRICS`.
   * @default false
   */
  operationMetrics: operationMetricsField('MONGODB_OPERATION_METRICS'),
  /**
   * Record this pool's metrics (connection counts, wait/use/create times, timeouts, errors,
   * breaker state) on the application's registry; `false` records and exports nothing for it.
   * Env `MONGODB_POOL_METRICS`.
   * @default true
   */
  poolMetrics: poolMetricsField('MONGODB_POOL_METRICS'),
} satisfies PoolFields;
