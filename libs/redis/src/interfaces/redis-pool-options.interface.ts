import type { EnvSource, RedisPoolConfig } from '@nest-pools/core';

/**
 * Options of `RedisPoolModule.forRoot()` / the `forRootAsync()` factory. Every field is optional
 * and falls back, per field, to `env`, then to the preset of `APP_ENV`, then to the library
 * default; the result is validated once, with every problem listed in one error. `name` and
 * `isGlobal` are given to `forRoot`/`forRootAsync` themselves, never by the factory.
 *
 * Field reference (env variable, unit, default, presets): docs/redis.md.
 */
export interface RedisPoolModuleOptions extends Partial<
  Omit<RedisPoolConfig, 'name' | 'topology'>
> {
  /**
   * Environment variables read beneath the explicit options (`REDIS_URL`,
   * `REDIS_MAX_CONNECTIONS`, …, and `APP_ENV`/`NODE_ENV` for the preset). `forRootAsync()`
   * without a factory fills it from `ConfigService`.
   * @default {} (explicit options, preset and defaults only)
   */
  env?: EnvSource;
}

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
