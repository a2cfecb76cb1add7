import type { EnvSource } from './app-env.js';
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

/** What {@link poolEnvFromConfig} needs of `@nestjs/config`'s `ConfigService`. */
export interface PoolConfigReader {
  get(name: string): unknown;
}

/**
 * The variables of `kind` ({@link poolEnvVariableNames}) as `ConfigService` sees them — validated
 * configuration, `.env` files and `process.env` alike — as an `EnvSource` for the config parser.
 * Numbers, booleans and bigints from loaded configuration become text; any other value is given
 * as JSON, so that an error can show it.
 *
 * @example
 * const config = parseRedisPoolConfig(poolEnvFromConfig('redis', configService), options);
 */
export function poolEnvFromConfig(kind: PoolKind, config: PoolConfigReader): EnvSource {
  const env: Record<string, string | undefined> = {};
  for (const name of poolEnvVariableNames(kind)) {
    const value = config.get(name);
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') env[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
      env[name] = String(value);
    } else env[name] = JSON.stringify(value);
  }
  return env;
}
