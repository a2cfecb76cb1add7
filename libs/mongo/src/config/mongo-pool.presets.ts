import type { AppEnv, PoolPresetOf } from '@nest-pools/core';

import type { MONGO_POOL_FIELDS } from './mongo-pool.fields.js';

/**
 * Per-environment starting points of a MongoDB pool, applied below env variables and explicit
 * options. Where the usual sizing guidance gives a range, staging takes the lower end (a smaller
 * copy of production that reaches its limits first) and production the start value.
 *
 * | | development | staging | production |
 * |---|---|---|---|
 * | maxPoolSize / minPoolSize | 20 / 2 | 50 / 5 | 100 / 10 |
 */
export const MONGO_POOL_PRESETS: Readonly<Record<AppEnv, PoolPresetOf<typeof MONGO_POOL_FIELDS>>> =
  Object.freeze({
    development: Object.freeze({ maxPoolSize: 20, minPoolSize: 2 }),
    staging: Object.freeze({ maxPoolSize: 50, minPoolSize: 5 }),
    production: Object.freeze({ maxPoolSize: 100, minPoolSize: 10 }),
  });
