import { accessSync, constants, statSync } from 'node:fs';

import { z } from 'zod';

import type { EnvSource } from './app-env.js';
import { parsePoolConfig } from './parse-pool-config.js';
import type { PoolConfigParseFlags, PoolSpec } from './pool-config-context.js';
import {
  booleanField,
  countField,
  describeFields,
  durationField,
  enumField,
  hostListField,
  type HostPort,
  type PoolFieldMap,
  type PoolVariableMeta,
  textField,
  urlField,
} from './pool-field.js';
import { POOL_PRESETS } from './presets.js';

/** How ioredis reaches the server(s), derived from the sentinel / cluster variables. */
export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

/** Where cluster reads go (ioredis `scaleReads`). */
export const REDIS_CLUSTER_SCALE_READS = ['master', 'slave', 'all'] as const;

/** Where cluster reads go: `master` only, replicas (`slave`), or `all` nodes. */
export type RedisClusterScaleReads = (typeof REDIS_CLUSTER_SCALE_READS)[number];

/**
 * Resolved configuration of one Redis pool: a main multiplexed client for ordinary commands and
 * a bounded pool of dedicated connections for blocking commands, transactions and pub/sub.
 */
export interface RedisPoolConfig {
  /**
   * Pool name; selects the injection token and labels metrics.
   * @default 'default'
   */
  name: string;
  /**
   * `redis://` or `rediss://` (TLS) URL with optional credentials and db index. With sentinels it
   * carries the master's credentials, db and TLS; with a cluster the nodes' credentials. Env
   * `REDIS_URL`.
   * @default 'redis://localhost:6379'
   */
  url: string;
  /**
   * Most dedicated connections (blocking commands, WATCH/MULTI, SUBSCRIBE). Env
   * `REDIS_MAX_CONNECTIONS`; presets 20 / 50 / 100.
   * @default 100
   */
  maxConnections: number;
  /**
   * Dedicated connections kept open. Env `REDIS_MIN_CONNECTIONS`.
   * @default 0
   */
  minConnections: number;
  /**
   * Connect timeout. Env `REDIS_CONNECT_TIMEOUT` (seconds).
   * @default 2000
   */
  connectTimeoutMs: number;
  /**
   * Per-command timeout. Env `REDIS_SOCKET_TIMEOUT` (seconds).
   * @default 2000
   */
  commandTimeoutMs: number;
  /**
   * TCP keep-alive initial delay; 0 = the OS default delay. Env `REDIS_KEEPALIVE` (seconds).
   * @default 30000
   */
  keepAliveMs: number;
  /**
   * Interval of the background PING that keeps idle connections verified; 0 = off. Env
   * `REDIS_HEALTH_CHECK_INTERVAL` (seconds).
   * @default 30000
   */
  healthCheckIntervalMs: number;
  /**
   * Reconnect-and-retry attempts of one command before it fails. Env
   * `REDIS_MAX_RETRIES_PER_REQUEST`.
   * @default 3
   */
  maxRetriesPerRequest: number;
  /**
   * Queue commands while disconnected (bounded by offlineQueueMax). Env `REDIS_OFFLINE_QUEUE`.
   * @default true
   */
  enableOfflineQueue: boolean;
  /**
   * Most commands queued while disconnected; further commands fail at once. Env
   * `REDIS_OFFLINE_QUEUE_MAX`.
   * @default 1000
   */
  offlineQueueMax: number;
  /**
   * Batch commands issued in the same tick into one pipeline. Env `REDIS_AUTO_PIPELINING`.
   * @default true
   */
  autoPipelining: boolean;
  /**
   * First reconnect delay (exponential backoff with jitter). Env `REDIS_RETRY_BASE_DELAY_MS`.
   * @default 100
   */
  retryBaseDelayMs: number;
  /**
   * Largest reconnect delay. Env `REDIS_RETRY_MAX_DELAY_MS`.
   * @default 5000
   */
  retryMaxDelayMs: number;
  /**
   * How long acquiring a dedicated connection may wait. Env `REDIS_ACQUIRE_TIMEOUT_MS`.
   * @default 5000
   */
  acquireTimeoutMs: number;
  /**
   * Idle dedicated connections above minConnections close after this; 0 = never. Env
   * `REDIS_IDLE_TIMEOUT_MS`.
   * @default 30000
   */
  idleTimeoutMs: number;
  /**
   * A dedicated connection held longer than this is reported as a leak; 0 = off. Env
   * `REDIS_LEAK_DETECTION_THRESHOLD_MS`.
   * @default 0
   */
  leakDetectionThresholdMs: number;
  /**
   * Time limit of one health PING. Env `REDIS_HEALTH_TIMEOUT_MS`.
   * @default 1000
   */
  healthTimeoutMs: number;
  /**
   * How long QUIT may take at shutdown before the sockets are cut. Env `REDIS_SHUTDOWN_TIMEOUT_MS`.
   * @default 5000
   */
  shutdownTimeoutMs: number;
  /**
   * Fail bootstrap when Redis is unreachable instead of starting degraded. Env `REDIS_FAIL_FAST`.
   * @default false
   */
  failFast: boolean;
  /**
   * Sentinel addresses; setting them selects the sentinel topology. Env `REDIS_SENTINELS`
   * (`host:port,…`).
   * @default undefined
   */
  sentinels?: HostPort[];
  /**
   * Master group name the sentinels monitor (required with sentinels). Env `REDIS_SENTINEL_NAME`.
   * @default undefined
   */
  sentinelName?: string;
  /**
   * Password of the sentinels themselves (secret). Env `REDIS_SENTINEL_PASSWORD`.
   * @default undefined
   */
  sentinelPassword?: string;
  /**
   * Cluster seed nodes; setting them selects the cluster topology. Env `REDIS_CLUSTER_NODES`
   * (`host:port,…`).
   * @default undefined
   */
  clusterNodes?: HostPort[];
  /**
   * Where cluster reads go. Env `REDIS_CLUSTER_SCALE_READS`.
   * @default 'master'
   */
  clusterScaleReads: RedisClusterScaleReads;
  /**
   * PEM file of the certificate authority (or bundle) that signed the server's certificate, for
   * `rediss://` servers whose CA is not in Node's trust store (a private CA). Added to Node's
   * trusted CAs; certificate and host name verification stay on. Env `REDIS_TLS_CA_FILE`.
   * @default undefined (Node's trust store only)
   */
  tlsCaFile?: string;
  /**
   * Derived: `sentinel` when sentinels are set, `cluster` when cluster nodes are, else
   * `standalone`. Setting both is refused.
   * @default 'standalone'
   */
  topology: RedisTopology;
}

/**
 * Explicit options of a Redis pool: any subset of {@link RedisPoolConfig}, in the config's units
 * (milliseconds). Other keys are accepted by the type so that they can be named as unknown.
 */
export type RedisPoolConfigInput = Partial<RedisPoolConfig> & { readonly [key: string]: unknown };

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

const REDIS_FIELDS = {
  url: urlField({
    env: 'REDIS_URL',
    default: 'redis://localhost:6379',
    schema: redisUrl,
    allowed: 'a redis:// or rediss:// URL: [user:password@]host[:port 1–65535][/db number]',
    description: 'Server URL (credentials, TLS via rediss://, db index).',
  }),
  maxConnections: countField({
    env: 'REDIS_MAX_CONNECTIONS',
    default: 100,
    min: 1,
    description: 'Most dedicated connections (blocking commands, WATCH/MULTI, SUBSCRIBE).',
  }),
  minConnections: countField({
    env: 'REDIS_MIN_CONNECTIONS',
    default: 0,
    min: 0,
    description: 'Dedicated connections kept open; at most maxConnections.',
  }),
  connectTimeoutMs: durationField({
    env: 'REDIS_CONNECT_TIMEOUT',
    envUnit: 'seconds',
    default: 2000,
    minMs: 1,
    description: 'Connect timeout.',
  }),
  commandTimeoutMs: durationField({
    env: 'REDIS_SOCKET_TIMEOUT',
    envUnit: 'seconds',
    default: 2000,
    minMs: 1,
    description: 'Per-command timeout.',
  }),
  keepAliveMs: durationField({
    env: 'REDIS_KEEPALIVE',
    envUnit: 'seconds',
    default: 30_000,
    minMs: 0,
    zeroMeans: 'the OS default delay',
    description: 'TCP keep-alive initial delay.',
  }),
  healthCheckIntervalMs: durationField({
    env: 'REDIS_HEALTH_CHECK_INTERVAL',
    envUnit: 'seconds',
    default: 30_000,
    minMs: 0,
    zeroMeans: 'off',
    description: 'Interval of the background PING that verifies idle connections.',
  }),
  maxRetriesPerRequest: countField({
    env: 'REDIS_MAX_RETRIES_PER_REQUEST',
    default: 3,
    min: 0,
    description: 'Reconnect-and-retry attempts of one command before it fails.',
  }),
  enableOfflineQueue: booleanField({
    env: 'REDIS_OFFLINE_QUEUE',
    default: true,
    description: 'Queue commands while disconnected (bounded by offlineQueueMax).',
  }),
  offlineQueueMax: countField({
    env: 'REDIS_OFFLINE_QUEUE_MAX',
    default: 1000,
    min: 1,
    description: 'Most commands queued while disconnected; further commands fail at once.',
  }),
  autoPipelining: booleanField({
    env: 'REDIS_AUTO_PIPELINING',
    // Off like ioredis itself: on loopback its effect swung from 0.44x to 3.3x between runs, and
    // with one batch in flight per node a dead socket can delay errors to twice the timeout.
    default: false,
    description: 'Batch commands issued in the same tick into one pipeline.',
  }),
  retryBaseDelayMs: durationField({
    env: 'REDIS_RETRY_BASE_DELAY_MS',
    envUnit: 'milliseconds',
    default: 100,
    minMs: 1,
    description:
      'First reconnect delay (exponential backoff with jitter); at most retryMaxDelayMs.',
  }),
  retryMaxDelayMs: durationField({
    env: 'REDIS_RETRY_MAX_DELAY_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'Largest reconnect delay.',
  }),
  acquireTimeoutMs: durationField({
    env: 'REDIS_ACQUIRE_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'How long acquiring a dedicated connection may wait.',
  }),
  idleTimeoutMs: durationField({
    env: 'REDIS_IDLE_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 30_000,
    minMs: 0,
    zeroMeans: 'never',
    description: 'Idle dedicated connections above minConnections close after this.',
  }),
  leakDetectionThresholdMs: durationField({
    env: 'REDIS_LEAK_DETECTION_THRESHOLD_MS',
    envUnit: 'milliseconds',
    default: 0,
    minMs: 0,
    zeroMeans: 'off',
    description: 'A dedicated connection held longer than this is reported as a leak.',
  }),
  healthTimeoutMs: durationField({
    env: 'REDIS_HEALTH_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 1000,
    minMs: 1,
    description: 'Time limit of one health PING.',
  }),
  shutdownTimeoutMs: durationField({
    env: 'REDIS_SHUTDOWN_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'How long QUIT may take at shutdown before the sockets are cut.',
  }),
  failFast: booleanField({
    env: 'REDIS_FAIL_FAST',
    default: false,
    description: 'Fail bootstrap when Redis is unreachable instead of starting degraded.',
  }),
  sentinels: hostListField({
    env: 'REDIS_SENTINELS',
    default: undefined,
    description: 'Sentinel addresses; selects the sentinel topology (needs REDIS_SENTINEL_NAME).',
  }),
  sentinelName: textField({
    env: 'REDIS_SENTINEL_NAME',
    default: undefined,
    maxLength: 256,
    description: 'Master group name the sentinels monitor.',
  }),
  sentinelPassword: {
    ...textField({
      env: 'REDIS_SENTINEL_PASSWORD',
      default: undefined,
      maxLength: 1024,
      description: 'Password of the sentinels themselves.',
    }),
    secret: true,
  },
  clusterNodes: hostListField({
    env: 'REDIS_CLUSTER_NODES',
    default: undefined,
    description: 'Cluster seed nodes; selects the cluster topology.',
  }),
  tlsCaFile: textField({
    env: 'REDIS_TLS_CA_FILE',
    default: undefined,
    maxLength: 4096,
    description:
      "PEM file of the CA that signed the server certificate (rediss://), trusted besides Node's CAs.",
  }),
  clusterScaleReads: enumField({
    env: 'REDIS_CLUSTER_SCALE_READS',
    default: 'master',
    values: REDIS_CLUSTER_SCALE_READS,
    description: 'Where cluster reads go: master, replicas (slave) or all nodes.',
  }),
} satisfies PoolFieldMap<Omit<RedisPoolConfig, 'name' | 'topology'>>;

function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const REDIS_SPEC: PoolSpec = {
  kind: 'redis',
  fields: REDIS_FIELDS,
  derived: ['topology'],
  unsupported: [],
  check(ctx) {
    ctx.checkOrder('minConnections', 'maxConnections', 'dedicated pool maximum');
    ctx.checkOrder('retryBaseDelayMs', 'retryMaxDelayMs', 'largest reconnect delay');
    const hasSentinels = ctx.values.sentinels !== undefined || !ctx.isValid('sentinels');
    const hasCluster = ctx.values.clusterNodes !== undefined || !ctx.isValid('clusterNodes');
    if (hasSentinels && hasCluster) {
      ctx.issue(
        'sentinels',
        `either sentinels or cluster nodes, not both: unset ${ctx.variable('sentinels')} or ` +
          `${ctx.variable('clusterNodes')}`,
      );
    }
    if (hasSentinels && ctx.values.sentinelName === undefined && ctx.isValid('sentinelName')) {
      const sentinels = ctx.variable('sentinels');
      ctx.issues.push({
        variable: sentinels.startsWith('options.') ? 'options.sentinelName' : 'REDIS_SENTINEL_NAME',
        given: '(not set)',
        allowed: `the master group name the sentinels monitor (required because ${sentinels} is set)`,
      });
    }
    const topology = hasSentinels ? 'sentinel' : hasCluster ? 'cluster' : 'standalone';
    ctx.values.topology = topology;
    const given = ctx.derivedOption('topology');
    if (given !== undefined && given !== topology) {
      ctx.issue(
        'topology',
        `derived from sentinels / clusterNodes ("${topology}" here); set those instead of topology`,
      );
    }
    if (topology === 'standalone') {
      ctx.requireExplicitInProduction('url', 'a redis:// or rediss:// URL');
    }
    const caFile = ctx.values.tlsCaFile;
    if (typeof caFile === 'string') {
      const url = ctx.values.url;
      if (typeof url === 'string' && !/^rediss:/i.test(url)) {
        ctx.issue(
          'tlsCaFile',
          `a CA file only with a rediss:// URL (${ctx.variable('url')} is redis://, no TLS)`,
        );
      } else if (!isReadableFile(caFile)) {
        ctx.issue('tlsCaFile', 'the path of a readable PEM file');
      }
    }
  },
};

/**
 * Every Redis pool variable: env name, option key, unit, default, presets and allowed values
 * (the source of the reference in docs/configuration.md). `topology` is derived, not listed.
 */
export const REDIS_POOL_ENV: readonly PoolVariableMeta[] = describeFields(REDIS_FIELDS, {
  development: POOL_PRESETS.development.redis,
  staging: POOL_PRESETS.staging.redis,
  production: POOL_PRESETS.production.redis,
});

/** The parse engine's description of the Redis pool (used by `collectPoolConfigIssues`). */
export const REDIS_POOL_SPEC: PoolSpec = REDIS_SPEC;

/**
 * Resolves a Redis pool config. Each key comes from the explicit option, else the env variable,
 * else the `APP_ENV` preset, else the library default; `topology` is derived.
 *
 * @throws ConfigValidationError listing every invalid variable (values masked)
 * @example
 * const config = parseRedisPoolConfig(process.env, { name: 'cache' });
 */
export function parseRedisPoolConfig(
  env: EnvSource,
  options?: RedisPoolConfigInput,
  flags?: PoolConfigParseFlags,
): RedisPoolConfig {
  return parsePoolConfig(REDIS_SPEC, env, options, flags) as unknown as RedisPoolConfig;
}
