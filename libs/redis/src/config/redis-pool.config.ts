import {
  definePool,
  type EnvSource,
  isReadableFile,
  type PoolConfigExplanation,
  type PoolConfigOf,
  type PoolConfigParseFlags,
  type PoolOptionsOf,
  type PoolVariableMeta,
} from '@nest-pools/core';

import { REDIS_POOL_FIELDS, type RedisTopology } from './redis-pool.fields.js';
import { REDIS_POOL_PRESETS } from './redis-pool.presets.js';

/** Keys the Redis rules compute from others. */
export interface RedisPoolDerivedConfig {
  /**
   * How ioredis reaches the server(s): `sentinel` when sentinels are set, `cluster` when cluster
   * nodes are, `standalone` otherwise. Derived; an option may repeat it only when it agrees.
   */
  topology: RedisTopology;
}

/**
 * Resolved configuration of one Redis pool, derived from {@link REDIS_POOL_FIELDS}: a main
 * multiplexed client for ordinary commands and a bounded pool of dedicated connections for
 * blocking commands, transactions and pub/sub. Every key, its env variable, unit, default and
 * presets: docs/configuration.md.
 */
export type RedisPoolConfig = PoolConfigOf<typeof REDIS_POOL_FIELDS> & RedisPoolDerivedConfig;

/**
 * Explicit options of a Redis pool: any subset of {@link RedisPoolConfig}, in the config's units
 * (milliseconds). Other keys are accepted by the type so that they can be named as unknown.
 */
export type RedisPoolConfigInput = PoolOptionsOf<RedisPoolConfig>;

/** The Redis pool's configuration: fields, presets and rules bound to core's parse engine. */
export const REDIS_POOL_DEFINITION = definePool<typeof REDIS_POOL_FIELDS, RedisPoolDerivedConfig>({
  kind: 'redis',
  label: 'Redis',
  fields: REDIS_POOL_FIELDS,
  presets: REDIS_POOL_PRESETS,
  derived: ['topology'],
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
});

/**
 * Every Redis pool variable: env name, option key, unit, default, presets and allowed values
 * (the source of the reference in docs/configuration.md). `topology` is derived, not listed.
 */
export const REDIS_POOL_ENV: readonly PoolVariableMeta[] = REDIS_POOL_DEFINITION.variables;

/**
 * Resolves a Redis pool config. Each key comes from the explicit option, else the env variable,
 * else the `APP_ENV` preset, else the library default; `topology` is derived.
 *
 * @throws ConfigValidationError listing every invalid variable (values masked)
 * @example
 * const config = parseRedisPoolConfig(process.env, { name: 'cache' });
 */
export const parseRedisPoolConfig: (
  env: EnvSource,
  options?: RedisPoolConfigInput,
  flags?: PoolConfigParseFlags,
) => RedisPoolConfig = REDIS_POOL_DEFINITION.parse;

/**
 * The effective configuration of a Redis pool: every key's value (secrets masked), the source
 * that set it (option / env NAME as written / `APP_ENV` preset / default) and what is allowed.
 */
export const explainRedisPoolConfig: (
  env: EnvSource,
  options?: RedisPoolConfigInput,
  flags?: PoolConfigParseFlags,
) => PoolConfigExplanation = REDIS_POOL_DEFINITION.explain;
