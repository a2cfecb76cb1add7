import { POOL_OPTIONS_FROM_ENV } from '@nest-pools/core';
import { type DynamicModule, Module } from '@nestjs/common';

import {
  REDIS_POOL_ASYNC_OPTIONS_TYPE,
  RedisPoolConfigurableModuleClass,
} from './redis-pool.module-definition.js';

/**
 * Redis for Nest: one multiplexed ioredis main client per named pool (auto-pipelining, command
 * timeout, reconnect with capped exponential backoff and jitter, a bounded offline queue), a
 * bounded pool of dedicated connections for blocking commands, transactions and pub/sub,
 * standalone, Sentinel or Cluster behind the same API, health, metrics and graceful shutdown.
 *
 * - `forRootAsync()` with no arguments reads `REDIS_*` through `ConfigService`
 *   (`ConfigModule.forRoot()` in the app).
 * - `forRootAsync({ name, isGlobal, imports, inject, useFactory | useClass | useExisting })` and
 *   `forRoot({ name, isGlobal, ...options })` take explicit options, validated like env ones.
 * - Each `name` is its own pool: modules with different names never merge.
 *
 * @example
 * @Module({
 *   imports: [
 *     ConfigModule.forRoot(),
 *     RedisPoolModule.forRootAsync(), // REDIS_URL, REDIS_MAX_CONNECTIONS, …
 *     RedisPoolModule.forRoot({ name: 'sessions', url: 'redis://sessions:6379/1' }),
 *   ],
 * })
 * export class AppModule {}
 *
 * // elsewhere
 * constructor(
 *   @InjectRedisPool() private readonly redis: Redis,
 *   private readonly pools: RedisPoolService,
 * ) {}
 */
@Module({})
export class RedisPoolModule extends RedisPoolConfigurableModuleClass {
  /**
   * Options from a factory, class or existing provider; without any of them, from the `REDIS_*`
   * variables read through `ConfigService`.
   * @param options `name`, `isGlobal`, `imports`, `inject`, `useFactory` | `useClass` | `useExisting`.
   */
  static override forRootAsync(options: typeof REDIS_POOL_ASYNC_OPTIONS_TYPE = {}): DynamicModule {
    if (options.useFactory || options.useClass || options.useExisting) {
      return super.forRootAsync(options);
    }
    return super.forRootAsync({
      ...options,
      useFactory: () => ({ [POOL_OPTIONS_FROM_ENV]: true }),
    });
  }
}
