import type { AppEnv, PoolPresetOf } from '@nest-pools/core';

import type { REDIS_POOL_FIELDS } from './redis-pool.fields.js';

/**
 * Per-environment starting points of a Redis pool (the dedicated-connection maximum), applied
 * below env variables and explicit options.
 *
 * | | development | staging | production |
 * |---|---|---|---|
 * | maxConnections | 20 | 50 | 100 |
 */
export const REDIS_POOL_PRESETS: Readonly<Record<AppEnv, PoolPresetOf<typeof REDIS_POOL_FIELDS>>> =
  Object.freeze({
    development: Object.freeze({ maxConnections: 20 }),
    staging: Object.freeze({ maxConnections: 50 }),
    production: Object.freeze({ maxConnections: 100 }),
  });
