export * from './config/index.js';
export * from './errors/redis-command-interrupted.error.js';
export * from './errors/redis-offline-queue-full.error.js';
export * from './errors/redis-pool-connect.error.js';
export type {
  RedisPoolHealthOptions,
  RedisPoolModuleOptions,
} from './interfaces/redis-pool-options.interface.js';
export type {
  RedisHealthDetails,
  RedisMainClientStats,
  RedisPoolStats,
} from './interfaces/redis-pool-stats.interface.js';
export type { RedisDedicatedPoolStats } from './redis-dedicated.pool.js';
export type { RedisPoolClient } from './redis-pool.client.js';
export { DEFAULT_REDIS_POOL_NAME, REDIS_POOL_MODULE_OPTIONS } from './redis-pool.constants.js';
export { InjectRedisPool } from './redis-pool.decorators.js';
export { RedisPoolHealthIndicator } from './redis-pool.health.js';
export type { RedisPoolInstance } from './redis-pool.instance.js';
export { RedisPoolModule } from './redis-pool.module.js';
export type { RedisPoolModuleExtras } from './redis-pool.module-definition.js';
export { RedisPoolService } from './redis-pool.service.js';
export { getIoRedisConnectionToken, getRedisPoolToken } from './redis-pool.utils.js';
