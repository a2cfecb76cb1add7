import type { AppEnv, PoolPresetOf } from '@nest-pools/core';

import type { HTTP_POOL_FIELDS } from './http-pool.fields.js';

/**
 * Per-environment starting points of an HTTP pool, applied below env variables and explicit
 * options; the total timeout is 15 s outside development, as in the recommended `.env` of
 * docs/configuration.md.
 *
 * | | development | staging | production |
 * |---|---|---|---|
 * | poolLimit / limitPerHost | 20 / 10 | 50 / 25 | 100 / 25 |
 * | timeoutTotalMs | 10000 | 15000 | 15000 |
 */
export const HTTP_POOL_PRESETS: Readonly<Record<AppEnv, PoolPresetOf<typeof HTTP_POOL_FIELDS>>> =
  Object.freeze({
    development: Object.freeze({ poolLimit: 20, limitPerHost: 10, timeoutTotalMs: 10_000 }),
    staging: Object.freeze({ poolLimit: 50, limitPerHost: 25, timeoutTotalMs: 15_000 }),
    production: Object.freeze({ poolLimit: 100, limitPerHost: 25, timeoutTotalMs: 15_000 }),
  });
