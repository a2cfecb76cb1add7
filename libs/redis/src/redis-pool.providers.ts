import {
  poolEnvVariableNames,
  PoolMetrics,
  PoolMetricsModule,
  ShutdownCoordinator,
} from '@nest-pools/core';
import type { DynamicModule, Provider } from '@nestjs/common';

import type { RedisPoolModuleOptions } from './interfaces/redis-pool-options.interface.js';
import { REDIS_POOL_MODULE_OPTIONS } from './redis-pool.constants.js';
import { RedisPoolInstance } from './redis-pool.instance.js';
import { RedisPoolService } from './redis-pool.service.js';
import {
  getIoRedisConnectionToken,
  getRedisPoolInstanceToken,
  getRedisPoolToken,
} from './redis-pool.utils.js';
import { RedisPoolCoreModule } from './redis-pool-core.module.js';

/**
 * Variables `forRootAsync()` without a factory reads through `ConfigService`: every Redis pool
 * variable of the core schema (aliases included) plus `APP_ENV`/`NODE_ENV` for the preset.
 */
export const REDIS_POOL_ENV_VARIABLES: readonly string[] = poolEnvVariableNames('redis');

function createRedisPoolProviders(name: string): Provider[] {
  const instanceToken = getRedisPoolInstanceToken(name);
  return [
    {
      provide: instanceToken,
      useFactory: (
        options: RedisPoolModuleOptions,
        metrics: PoolMetrics,
        service: RedisPoolService,
        coordinator: ShutdownCoordinator | undefined,
      ) => new RedisPoolInstance(name, options, metrics, service, coordinator ?? undefined),
      inject: [
        REDIS_POOL_MODULE_OPTIONS,
        PoolMetrics,
        RedisPoolService,
        { token: ShutdownCoordinator, optional: true },
      ],
    },
    {
      provide: getRedisPoolToken(name),
      useFactory: (instance: RedisPoolInstance) => instance.client,
      inject: [instanceToken],
    },
    // @nestjs-modules/ioredis' `@InjectRedis(name)` resolves the very same client.
    { provide: getIoRedisConnectionToken(name), useExisting: getRedisPoolToken(name) },
  ];
}

/**
 * Adds one named pool's providers and exports to the module definition built by
 * `ConfigurableModuleBuilder`.
 * @param definition The generated dynamic module.
 * @param extras `name` and `isGlobal`.
 */
export function withRedisPoolProviders(
  definition: DynamicModule,
  extras: { name: string; isGlobal: boolean },
): DynamicModule {
  return {
    ...definition,
    global: extras.isGlobal,
    imports: [...(definition.imports ?? []), PoolMetricsModule, RedisPoolCoreModule],
    providers: [...(definition.providers ?? []), ...createRedisPoolProviders(extras.name)],
    exports: [
      ...(definition.exports ?? []),
      getRedisPoolToken(extras.name),
      getIoRedisConnectionToken(extras.name),
      PoolMetricsModule,
      RedisPoolCoreModule,
    ],
  };
}
