import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';

import { backoffDelay } from '@nest-pools/core';
import type {
  ClusterNode,
  ClusterOptions as IoClusterOptions,
  RedisOptions as IoRedisOptions,
} from 'ioredis';

import { type RedisPoolConfig } from './index.js';

/** ioredis client options with RESP2-shaped replies (the shape every typed command returns). */
export type RedisOptions = IoRedisOptions & { replyMapping?: 'legacy' };
/** ioredis cluster options with RESP2-shaped replies. */
export type ClusterOptions = IoClusterOptions & {
  redisOptions?: IoClusterOptions['redisOptions'] & { replyMapping?: 'legacy' };
};

/** Connection target and credentials read from a `redis://` or `rediss://` URL. */
export interface RedisUrlParts {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  /**
   * Set for `rediss://`: TLS with certificate verification. `servername` (SNI) is the host name;
   * an IP address is verified against the certificate's IP entries and sends no SNI.
   */
  tls?: { servername?: string };
}

const DEFAULT_PORT = 6379;

/**
 * Splits a `redis://[user:pass@]host[:port][/db]` or `rediss://…` URL into ioredis options. TLS
 * keeps Node's default certificate verification on; only the SNI name is set.
 * @param url The URL as configured (validated by the config schema).
 */
export function parseRedisUrl(url: string): RedisUrlParts {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const parts: RedisUrlParts = {
    host,
    port: parsed.port === '' ? DEFAULT_PORT : Number(parsed.port),
  };
  if (parsed.username !== '') parts.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') parts.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '') parts.db = Number(db);
  if (parsed.protocol === 'rediss:') parts.tls = isIP(host) === 0 ? { servername: host } : {};
  return parts;
}

/**
 * Reconnect delay of the main client: exponential from `retryBaseDelayMs`, capped at
 * `retryMaxDelayMs`, with full jitter so many clients do not reconnect in step.
 */
export function createRetryStrategy(
  config: Pick<RedisPoolConfig, 'retryBaseDelayMs' | 'retryMaxDelayMs'>,
): (attempt: number) => number {
  return (attempt: number) =>
    backoffDelay(attempt, {
      baseMs: config.retryBaseDelayMs,
      maxMs: config.retryMaxDelayMs,
      jitter: 'full',
    });
}

/** After a failover the old master answers READONLY: reconnect (to the new master) and resend. */
export function reconnectOnReadonly(err: Error): boolean | 2 {
  return err.message.startsWith('READONLY') ? 2 : false;
}

/** Options of the main client, per topology. */
export type MainClientOptions =
  | { topology: 'standalone' | 'sentinel'; options: RedisOptions }
  | { topology: 'cluster'; nodes: ClusterNode[]; options: ClusterOptions };

function connectionOptions(config: RedisPoolConfig, role: 'main' | 'dedicated'): RedisOptions {
  const url = parseRedisUrl(config.url);
  const options: RedisOptions = {
    username: url.username,
    password: url.password,
    db: url.db,
    connectTimeout: config.connectTimeoutMs,
    keepAlive: config.keepAliveMs,
    connectionName: `nest-pools:${config.name}:${role}`,
    // The module connects explicitly, so a server that is down never blocks construction.
    lazyConnect: true,
  };
  if (url.tls) {
    options.tls = { ...url.tls };
    // Adding to Node's trust store: `ca` alone would replace it.
    if (config.tlsCaFile !== undefined) {
      options.tls.ca = [...rootCertificates, readFileSync(config.tlsCaFile, 'utf8')];
    }
  }
  if (config.topology === 'standalone') {
    options.host = url.host;
    options.port = url.port;
  } else if (config.topology === 'sentinel') {
    options.sentinels = config.sentinels ?? [];
    options.name = config.sentinelName;
    if (config.sentinelPassword !== undefined) options.sentinelPassword = config.sentinelPassword;
    options.enableTLSForSentinelMode = url.tls !== undefined;
  }
  return options;
}

/**
 * ioredis options of the main (multiplexed) client: command timeout, a socket timeout of the same
 * length (a silent, blackholed socket is destroyed and reconnected rather than waited on),
 * reconnect with capped exponential backoff and jitter, retries per request, the offline queue and
 * auto-pipelining as configured.
 * @param config The parsed pool configuration.
 */
export function buildMainClientOptions(config: RedisPoolConfig): MainClientOptions {
  const retryStrategy = createRetryStrategy(config);
  const base: RedisOptions = {
    ...connectionOptions(config, 'main'),
    commandTimeout: config.commandTimeoutMs,
    socketTimeout: config.commandTimeoutMs,
    maxRetriesPerRequest: config.maxRetriesPerRequest,
    autoResendUnfulfilledCommands: config.resendUnfulfilled,
    enableOfflineQueue: config.enableOfflineQueue,
    enableAutoPipelining: config.autoPipelining,
    // ioredis runs one auto-pipeline per node at a time; a health PING stuck on a dead socket
    // must not hold that lane and delay (the timeouts of) the application's commands.
    autoPipeliningIgnoredCommands: ['ping'],
    reconnectOnError: reconnectOnReadonly,
  };
  if (config.topology === 'cluster') {
    // Cluster reconnects its nodes itself (clusterRetryStrategy); queueing is cluster-wide.
    const {
      lazyConnect,
      enableOfflineQueue,
      enableAutoPipelining,
      autoPipeliningIgnoredCommands,
      ...redisOptions
    } = base;
    return {
      topology: 'cluster',
      nodes: config.clusterNodes ?? [],
      options: {
        redisOptions,
        clusterRetryStrategy: retryStrategy,
        scaleReads: config.clusterScaleReads,
        lazyConnect,
        enableOfflineQueue,
        enableAutoPipelining,
        autoPipeliningIgnoredCommands,
      },
    };
  }
  return {
    topology: config.topology,
    options: {
      ...base,
      retryStrategy,
      sentinelRetryStrategy: retryStrategy,
      // Follow +switch-master at once instead of writing to a demoted master until Sentinel
      // reconfigures it (seconds later).
      ...(config.topology === 'sentinel' && { failoverDetector: true }),
    },
  };
}

/**
 * ioredis options of a pool's long-lived subscriber: the main client's (reconnect with backoff
 * and jitter, offline queue, timeouts, `resendUnfulfilled`) plus `autoResubscribe`, without
 * auto-pipelining, under its own connection name.
 * @param config The parsed pool configuration.
 */
export function buildSubscriberClientOptions(config: RedisPoolConfig): MainClientOptions {
  const main = buildMainClientOptions(config);
  const connectionName = `nest-pools:${config.name}:subscriber`;
  const own = { connectionName, autoResubscribe: true };
  if (main.topology === 'cluster') {
    const options = { ...main.options, enableAutoPipelining: false };
    return { ...main, options: { ...options, redisOptions: { ...options.redisOptions, ...own } } };
  }
  return { ...main, options: { ...main.options, ...own, enableAutoPipelining: false } };
}

/**
 * ioredis options of a dedicated connection: no command or socket timeout (BLPOP and XREAD BLOCK
 * wait as long as they ask to), no offline queue and no reconnect — a broken dedicated connection
 * fails the work in hand and is replaced by the pool on the next acquire.
 * @param config The parsed pool configuration.
 */
export function buildDedicatedClientOptions(config: RedisPoolConfig): MainClientOptions {
  const base: RedisOptions = {
    ...connectionOptions(config, 'dedicated'),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  };
  if (config.topology === 'cluster') {
    const { lazyConnect, enableOfflineQueue, ...redisOptions } = base;
    return {
      topology: 'cluster',
      nodes: config.clusterNodes ?? [],
      options: {
        redisOptions,
        clusterRetryStrategy: () => null,
        scaleReads: config.clusterScaleReads,
        lazyConnect,
        enableOfflineQueue,
      },
    };
  }
  return {
    topology: config.topology,
    options: { ...base, retryStrategy: () => null, sentinelRetryStrategy: () => null },
  };
}
