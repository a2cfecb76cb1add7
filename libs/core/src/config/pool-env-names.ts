import { HTTP_POOL_SPEC } from './http-pool.config.js';
import { MONGO_POOL_SPEC } from './mongo-pool.config.js';
import type { PoolKind } from './pool-field.js';
import { REDIS_POOL_SPEC } from './redis-pool.config.js';

const SPECS = { mongo: MONGO_POOL_SPEC, redis: REDIS_POOL_SPEC, http: HTTP_POOL_SPEC } as const;

/**
 * Every env name the parser of `kind` reads: `APP_ENV`, `NODE_ENV`, each canonical name and its
 * aliases, and the names it refuses with an explanation (`MONGODB_WAIT_QUEUE_MULTIPLE`). Build an
 * `EnvSource` from `ConfigService` over these names so that nothing is missed.
 *
 * @example
 * const env = Object.fromEntries(poolEnvVariableNames('redis').map((n) => [n, config.get<string>(n)]));
 */
export function poolEnvVariableNames(kind: PoolKind): readonly string[] {
  const spec = SPECS[kind];
  const names = ['APP_ENV', 'NODE_ENV'];
  for (const field of Object.values(spec.fields)) {
    if (field.env !== undefined) names.push(field.env, ...(field.aliases ?? []));
  }
  for (const unsupported of spec.unsupported) {
    if (unsupported.env !== undefined) names.push(unsupported.env);
  }
  return Object.freeze(names);
}
