import type { AppEnv } from './app-env.js';
import type { HttpPoolConfig } from './http-pool.config.js';
import type { MongoPoolConfig } from './mongo-pool.config.js';
import type { RedisPoolConfig } from './redis-pool.config.js';

/** The settings a preset fixes for each pool kind. */
export interface PoolPreset {
  /** Mongo pool sizes. */
  readonly mongo: Readonly<Partial<MongoPoolConfig>>;
  /** Redis dedicated-connection pool size. */
  readonly redis: Readonly<Partial<RedisPoolConfig>>;
  /** HTTP socket limits and total timeout. */
  readonly http: Readonly<Partial<HttpPoolConfig>>;
}

/**
 * Per-environment starting points, applied below env variables and explicit options. Where the
 * usual sizing guidance gives a range, staging takes the lower end (a smaller copy of production
 * that reaches its limits first) and production the start value; the total HTTP timeout is 15 s
 * outside development, as in the recommended `.env` of docs/configuration.md.
 *
 * | | development | staging | production |
 * |---|---|---|---|
 * | Mongo maxPoolSize / minPoolSize | 20 / 2 | 50 / 5 | 100 / 10 |
 * | Redis maxConnections | 20 | 50 | 100 |
 * | HTTP poolLimit / limitPerHost | 20 / 10 | 50 / 25 | 100 / 25 |
 * | HTTP timeoutTotalMs | 10000 | 15000 | 15000 |
 */
export const POOL_PRESETS: Readonly<Record<AppEnv, PoolPreset>> = Object.freeze({
  development: Object.freeze({
    mongo: Object.freeze({ maxPoolSize: 20, minPoolSize: 2 }),
    redis: Object.freeze({ maxConnections: 20 }),
    http: Object.freeze({ poolLimit: 20, limitPerHost: 10, timeoutTotalMs: 10_000 }),
  }),
  staging: Object.freeze({
    mongo: Object.freeze({ maxPoolSize: 50, minPoolSize: 5 }),
    redis: Object.freeze({ maxConnections: 50 }),
    http: Object.freeze({ poolLimit: 50, limitPerHost: 25, timeoutTotalMs: 15_000 }),
  }),
  production: Object.freeze({
    mongo: Object.freeze({ maxPoolSize: 100, minPoolSize: 10 }),
    redis: Object.freeze({ maxConnections: 100 }),
    http: Object.freeze({ poolLimit: 100, limitPerHost: 25, timeoutTotalMs: 15_000 }),
  }),
});
