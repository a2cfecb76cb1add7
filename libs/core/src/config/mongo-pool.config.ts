import { z } from 'zod';

import type { EnvSource } from './app-env.js';
import { parsePoolConfig } from './parse-pool-config.js';
import type { PoolConfigParseFlags, PoolSpec } from './pool-config-context.js';
import {
  booleanField,
  countField,
  describeFields,
  durationField,
  listField,
  type PoolFieldMap,
  type PoolVariableMeta,
  textField,
  urlField,
} from './pool-field.js';
import { POOL_PRESETS } from './presets.js';

/** Wire compressors the MongoDB driver can negotiate. */
export const MONGO_COMPRESSORS = ['zlib', 'zstd', 'snappy'] as const;

/** A wire compressor; `zstd` and `snappy` need their optional driver packages installed. */
export type MongoCompressor = (typeof MONGO_COMPRESSORS)[number];

/**
 * Resolved configuration of one MongoDB pool. Keys match the driver's `MongoClientOptions` where
 * the driver has them; the others drive nest-pools' own behaviour.
 */
export interface MongoPoolConfig {
  /**
   * Pool name; selects the injection token and labels metrics.
   * @default 'default'
   */
  name: string;
  /**
   * Connection string, `mongodb://` or `mongodb+srv://` (kept as given; shown redacted). Env
   * `MONGODB_URL`.
   * @default 'mongodb://localhost:27017'
   */
  url: string;
  /**
   * Most connections per server. Env `MONGODB_MAX_POOL_SIZE`; presets 20 / 50 / 100.
   * @default 100
   */
  maxPoolSize: number;
  /**
   * Connections kept open (and warmed at start). Env `MONGODB_MIN_POOL_SIZE`; presets 2 / 5 / 10.
   * @default 0
   */
  minPoolSize: number;
  /**
   * Connections being established at once. Env `MONGODB_MAX_CONNECTING`.
   * @default 2
   */
  maxConnecting: number;
  /**
   * How long a check-out may wait for a free connection. Env `MONGODB_WAIT_QUEUE_TIMEOUT_MS`.
   * @default 5000
   */
  waitQueueTimeoutMS: number;
  /**
   * Idle time after which a pooled connection is closed; 0 = never. Env `MONGODB_MAX_IDLE_TIME_MS`.
   * @default 30000
   */
  maxIdleTimeMS: number;
  /**
   * How long to look for a suitable server. Env `MONGODB_SERVER_SELECTION_TIMEOUT_MS`.
   * @default 3000
   */
  serverSelectionTimeoutMS: number;
  /**
   * Socket inactivity timeout; 0 = none. Env `MONGODB_SOCKET_TIMEOUT_MS`.
   * @default 20000
   */
  socketTimeoutMS: number;
  /**
   * TCP/TLS connect timeout. Env `MONGODB_CONNECT_TIMEOUT_MS`.
   * @default 10000
   */
  connectTimeoutMS: number;
  /**
   * Interval of server monitoring checks (driver minimum 500). Env `MONGODB_HEARTBEAT_FREQUENCY_MS`.
   * @default 10000
   */
  heartbeatFrequencyMS: number;
  /**
   * Application name sent in the handshake (shows in server logs and `currentOp`). Env
   * `MONGODB_APPNAME`.
   * @default undefined
   */
  appName?: string;
  /**
   * Wire compressors to offer, in preference order. Env `MONGODB_COMPRESSORS` (comma list).
   * @default []
   */
  compressors: MongoCompressor[];
  /**
   * Retry a write once on a transient error. Env `MONGODB_RETRY_WRITES`.
   * @default true
   */
  retryWrites: boolean;
  /**
   * Retry a read once on a transient error. Env `MONGODB_RETRY_READS`.
   * @default true
   */
  retryReads: boolean;
  /**
   * A checked-out connection held longer than this is reported as a leak; 0 = off. Env
   * `MONGODB_LEAK_DETECTION_THRESHOLD_MS`.
   * @default 0
   */
  leakDetectionThresholdMS: number;
  /**
   * Capture the check-out stack trace for leak reports (costs a stack per check-out). Env
   * `MONGODB_LEAK_DETECTION_STACKS`.
   * @default false
   */
  leakDetectionStacks: boolean;
  /**
   * Fail bootstrap when the server is unreachable at start instead of starting degraded. Env
   * `MONGODB_FAIL_FAST`.
   * @default false
   */
  failFast: boolean;
  /**
   * Time limit of one health ping. Env `MONGODB_HEALTH_TIMEOUT_MS`.
   * @default 1000
   */
  healthTimeoutMS: number;
  /**
   * How long closing the pool may take at shutdown. Env `MONGODB_SHUTDOWN_TIMEOUT_MS`.
   * @default 5000
   */
  shutdownTimeoutMS: number;
  /**
   * Open `minPoolSize` connections at start. Env `MONGODB_WARM_UP`.
   * @default true
   */
  warmUp: boolean;
}

/**
 * Explicit options of a MongoDB pool: any subset of {@link MongoPoolConfig}, in the config's
 * units. Other keys are accepted by the type so that they can be refused with an explanation
 * (`waitQueueMultiple`) or named as unknown.
 */
export type MongoPoolConfigInput = Partial<MongoPoolConfig> & { readonly [key: string]: unknown };

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

const WAIT_QUEUE_MULTIPLE_REASON =
  'waitQueueMultiple was removed from the MongoDB Node.js driver (4.0+), which would ignore it; ' +
  'size the pool with maxPoolSize (MONGODB_MAX_POOL_SIZE) and bound waiting with ' +
  'waitQueueTimeoutMS (MONGODB_WAIT_QUEUE_TIMEOUT_MS)';

const MONGO_FIELDS = {
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
  maxPoolSize: countField({
    env: 'MONGODB_MAX_POOL_SIZE',
    default: 100,
    min: 1,
    description: 'Most connections per server (check-outs beyond it wait in the queue).',
  }),
  minPoolSize: countField({
    env: 'MONGODB_MIN_POOL_SIZE',
    default: 0,
    min: 0,
    description: 'Connections kept open and warmed at start; at most maxPoolSize.',
  }),
  maxConnecting: countField({
    env: 'MONGODB_MAX_CONNECTING',
    default: 2,
    min: 1,
    description: 'Connections being established at once (limits connection storms).',
  }),
  waitQueueTimeoutMS: durationField({
    env: 'MONGODB_WAIT_QUEUE_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'How long a check-out may wait for a free connection before failing.',
  }),
  maxIdleTimeMS: durationField({
    env: 'MONGODB_MAX_IDLE_TIME_MS',
    envUnit: 'milliseconds',
    default: 30_000,
    minMs: 0,
    zeroMeans: 'never close idle connections',
    description: 'Idle time after which a pooled connection is closed.',
  }),
  serverSelectionTimeoutMS: durationField({
    env: 'MONGODB_SERVER_SELECTION_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 3000,
    minMs: 1,
    description: 'How long an operation looks for a suitable server before failing.',
  }),
  socketTimeoutMS: durationField({
    env: 'MONGODB_SOCKET_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 20_000,
    minMs: 0,
    zeroMeans: 'no socket timeout',
    description: 'Socket inactivity timeout for operations.',
  }),
  connectTimeoutMS: durationField({
    env: 'MONGODB_CONNECT_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 10_000,
    minMs: 1,
    description: 'TCP and TLS connect timeout.',
  }),
  heartbeatFrequencyMS: durationField({
    env: 'MONGODB_HEARTBEAT_FREQUENCY_MS',
    envUnit: 'milliseconds',
    default: 10_000,
    minMs: 500,
    description: 'Interval of server monitoring checks (the driver minimum is 500 ms).',
  }),
  appName: textField({
    env: 'MONGODB_APPNAME',
    default: undefined,
    maxLength: 128,
    description: 'Application name sent in the handshake (server logs, currentOp).',
  }),
  compressors: listField({
    env: 'MONGODB_COMPRESSORS',
    default: [],
    values: MONGO_COMPRESSORS,
    none: 'none',
    description: 'Wire compressors to offer; zstd and snappy need their optional packages.',
  }),
  retryWrites: booleanField({
    env: 'MONGODB_RETRY_WRITES',
    default: true,
    description: 'Retry a write once on a transient network error or failover.',
  }),
  retryReads: booleanField({
    env: 'MONGODB_RETRY_READS',
    default: true,
    description: 'Retry a read once on a transient network error or failover.',
  }),
  leakDetectionThresholdMS: durationField({
    env: 'MONGODB_LEAK_DETECTION_THRESHOLD_MS',
    envUnit: 'milliseconds',
    default: 0,
    minMs: 0,
    zeroMeans: 'off',
    description: 'A connection checked out longer than this is reported as a leak.',
  }),
  leakDetectionStacks: booleanField({
    env: 'MONGODB_LEAK_DETECTION_STACKS',
    default: false,
    description: 'Capture the check-out stack trace for leak reports (one stack per check-out).',
  }),
  failFast: booleanField({
    env: 'MONGODB_FAIL_FAST',
    default: false,
    description: 'Fail bootstrap when the server is unreachable instead of starting degraded.',
  }),
  healthTimeoutMS: durationField({
    env: 'MONGODB_HEALTH_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 1000,
    minMs: 1,
    description: 'Time limit of one health ping.',
  }),
  shutdownTimeoutMS: durationField({
    env: 'MONGODB_SHUTDOWN_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'How long closing the pool may take at shutdown.',
  }),
  warmUp: booleanField({
    env: 'MONGODB_WARM_UP',
    default: true,
    description: 'Open minPoolSize connections at start.',
  }),
} satisfies PoolFieldMap<Omit<MongoPoolConfig, 'name'>>;

const MONGO_SPEC: PoolSpec = {
  kind: 'mongo',
  fields: MONGO_FIELDS,
  derived: [],
  unsupported: [
    {
      option: 'waitQueueMultiple',
      env: 'MONGODB_WAIT_QUEUE_MULTIPLE',
      explanation: `not supported: ${WAIT_QUEUE_MULTIPLE_REASON}`,
    },
  ],
  check(ctx) {
    ctx.checkOrder('minPoolSize', 'maxPoolSize', 'maximum pool size');
    const url = ctx.values.url;
    if (ctx.isValid('url') && typeof url === 'string') {
      const query = url.split('?')[1] ?? '';
      const params = new URLSearchParams(query);
      if ([...params.keys()].some((k) => k.toLowerCase() === 'waitqueuemultiple')) {
        ctx.issue(
          'url',
          `a connection string without waitQueueMultiple (${WAIT_QUEUE_MULTIPLE_REASON})`,
        );
      }
    }
    ctx.requireExplicitInProduction('url', 'a mongodb:// or mongodb+srv:// connection string');
  },
};

/**
 * Every MongoDB pool variable: env name, option key, unit, default, presets and allowed values
 * (the source of the reference in docs/configuration.md).
 */
export const MONGO_POOL_ENV: readonly PoolVariableMeta[] = describeFields(MONGO_FIELDS, {
  development: POOL_PRESETS.development.mongo,
  staging: POOL_PRESETS.staging.mongo,
  production: POOL_PRESETS.production.mongo,
});

/** The parse engine's description of the MongoDB pool (used by `collectPoolConfigIssues`). */
export const MONGO_POOL_SPEC: PoolSpec = MONGO_SPEC;

/**
 * Resolves a MongoDB pool config. Each key comes from the explicit option, else the env variable,
 * else the `APP_ENV` preset, else the library default.
 *
 * @throws ConfigValidationError listing every invalid variable (values masked)
 * @example
 * const config = parseMongoPoolConfig(process.env, { appName: 'codebot' });
 * new MongoClient(config.url, { maxPoolSize: config.maxPoolSize });
 */
export function parseMongoPoolConfig(
  env: EnvSource,
  options?: MongoPoolConfigInput,
  flags?: PoolConfigParseFlags,
): MongoPoolConfig {
  return parsePoolConfig(MONGO_SPEC, env, options, flags) as unknown as MongoPoolConfig;
}
