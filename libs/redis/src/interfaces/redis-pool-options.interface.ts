import type { PoolSourceOptions } from '@nest-pools/core';

import type { RedisPoolConfig } from '../config/index.js';

/**
 * Options of `RedisPoolModule.forRoot()` / the `forRootAsync()` factory: any subset of
 * {@link RedisPoolConfig}. Every key left out falls back to its env variable (read through
 * `ConfigService`), then to the preset of `APP_ENV`, then to the library default — unless
 * `ignoreEnv` is set; the result is validated once, with every problem listed in one error.
 * `name` and `isGlobal` are given to `forRoot`/`forRootAsync` themselves, never by the factory.
 *
 * Field reference (env variable, unit, default, presets): docs/configuration.md.
 */
export type RedisPoolModuleOptions = Partial<Omit<RedisPoolConfig, 'name' | 'topology'>> &
  PoolSourceOptions;

/** Options of `RedisPoolHealthIndicator.isHealthy()`. */
export interface RedisPoolHealthOptions {
  /**
   * Pool to check.
   * @default 'default'
   */
  name?: string;
  /**
   * Time limit of the check; the indicator answers `down` within this plus a few ms even when
   * Redis is blackholed.
   * @default the pool's `healthTimeoutMs` (REDIS_HEALTH_TIMEOUT_MS, 1000)
   */
  timeoutMs?: number;
  /**
   * Also read INFO fields (`connected_clients`, `used_memory`, `keyspace_hits`,
   * `keyspace_misses`) in the same check.
   * @default false
   */
  info?: boolean;
}
