import { DEFAULT_REDIS_POOL_NAME } from './redis-pool.constants.js';

/**
 * Injection token of a pool's main ioredis client: `'RedisPool(name)'`.
 * @param name Pool name.
 * @default name 'default'
 * @example
 * moduleRef.get<Redis>(getRedisPoolToken('cache'));
 */
export function getRedisPoolToken(name: string = DEFAULT_REDIS_POOL_NAME): string {
  return `RedisPool(${name})`;
}

/**
 * Injection token of a pool's internal instance (main client, dedicated pool, health, metrics):
 * `'RedisPoolInstance(name)'`.
 * @param name Pool name.
 */
export function getRedisPoolInstanceToken(name: string = DEFAULT_REDIS_POOL_NAME): string {
  return `RedisPoolInstance(${name})`;
}

/**
 * Injection token `@InjectRedis(name)` of `@nestjs-modules/ioredis` 2.x injects:
 * `'<name>_IORedisModuleConnectionToken'`. The module provides it as an alias of
 * {@link getRedisPoolToken}, so code written against that module gets the pool's main client.
 * Spelled out here rather than imported, because that package is CommonJS requiring the ESM-only
 * Nest 12 packages, which Jest's module loader cannot follow; an e2e test pins it to the
 * package's own `getRedisConnectionToken`.
 * @param name Pool name.
 */
export function getIoRedisConnectionToken(name: string = DEFAULT_REDIS_POOL_NAME): string {
  return `${name}_IORedisModuleConnectionToken`;
}

/**
 * Module-local token of the resolved {@link RedisPoolConfig} of the pool `name`.
 *
 * @returns `'RedisPoolConfig(<name>)'`
 */
export function getRedisPoolConfigToken(name: string = DEFAULT_REDIS_POOL_NAME): string {
  return `RedisPoolConfig(${name})`;
}
