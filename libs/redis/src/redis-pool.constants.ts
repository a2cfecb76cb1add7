/** `db_system` / `pool_system` label of every Redis pool metric. */
export const REDIS_DB_SYSTEM = 'redis';

/** Name of a pool created without an explicit `name`. */
export const DEFAULT_REDIS_POOL_NAME = 'default';

/**
 * Injection token of the options given to `forRoot` / produced by the `forRootAsync` factory
 * (scoped to one dynamic module, so named pools never read each other's options).
 */
export const REDIS_POOL_MODULE_OPTIONS = 'nest-pools:RedisPoolModuleOptions';

/** Prefix of the Nest logger context of every pool: `RedisPool(name)`. */
export const REDIS_POOL_LOGGER_CONTEXT = 'RedisPool';

/** Lifecycle phase of Redis pools in the core `ShutdownCoordinator` (its log name). */
export const REDIS_SHUTDOWN_PHASE = 'redis';

/**
 * When Redis pools close in the core `ShutdownCoordinator`: after outbound HTTP (100), before
 * MongoDB (300), so work still finishing can use the cache and persist.
 */
export const REDIS_SHUTDOWN_ORDER = 200;
