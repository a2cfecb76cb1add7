import { Inject } from '@nestjs/common';

import { DEFAULT_REDIS_POOL_NAME } from './redis-pool.constants.js';
import { getRedisPoolToken } from './redis-pool.utils.js';

/**
 * Injects a pool's main (multiplexed) ioredis client — a `Redis`, or a `Cluster` when the pool
 * is configured with `REDIS_CLUSTER_NODES`. `@InjectRedis(name)` from `@nestjs-modules/ioredis`
 * resolves the same instance.
 * @param name Pool name.
 * @default name 'default'
 * @example
 * constructor(@InjectRedisPool() private readonly redis: Redis) {}
 */
export function InjectRedisPool(
  name: string = DEFAULT_REDIS_POOL_NAME,
): ParameterDecorator & PropertyDecorator {
  return Inject(getRedisPoolToken(name));
}
