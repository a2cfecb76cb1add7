import {
  createPoolConfigProvider,
  POOL_CONFIG_IMPORTS,
  PoolMetrics,
  poolMetricsFor,
  PoolMetricsModule,
  ShutdownCoordinator,
} from '@nest-pools/core';
import type { DynamicModule, Provider } from '@nestjs/common';

import { REDIS_POOL_DEFINITION, type RedisPoolConfig } from './config/index.js';
import { REDIS_POOL_MODULE_OPTIONS } from './redis-pool.constants.js';
import { RedisPoolInstance } from './redis-pool.instance.js';
import { RedisPoolService } from './redis-pool.service.js';
import {
  getIoRedisConnectionToken,
  getRedisPoolConfigToken,
  getRedisPoolInstanceToken,
  getRedisPoolToken,
} from './redis-pool.utils.js';
import { RedisPoolRegistryModule } from './redis-pool-registry.module.js';

/**
 * Providers of the pool `name`: its resolved config (one `REDIS_POOL_CONFIG` provider that
 * parses every source the same way), the lifecycle owner, and the client under its tokens.
 */
export function createRedisPoolProviders(name: string): Provider[] {
  const instanceToken = getRedisPoolInstanceToken(name);
  return [
    createPoolConfigProvider({
      provide: getRedisPoolConfigToken(name),
      definition: REDIS_POOL_DEFINITION,
      name,
      optionsToken: REDIS_POOL_MODULE_OPTIONS,
      module: 'RedisPoolModule',
    }),
    {
      provide: instanceToken,
      useFactory: (
        config: RedisPoolConfig,
        metrics: PoolMetrics,
        service: RedisPoolService,
        coordinator: ShutdownCoordinator | undefined,
      ) =>
        new RedisPoolInstance(
          name,
          config,
          poolMetricsFor(metrics, config.poolMetrics),
          service.registry,
          coordinator ?? undefined,
        ),
      inject: [
        getRedisPoolConfigToken(name),
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
    imports: [
      ...(definition.imports ?? []),
      ...POOL_CONFIG_IMPORTS,
      PoolMetricsModule,
      RedisPoolRegistryModule,
    ],
    providers: [...(definition.providers ?? []), ...createRedisPoolProviders(extras.name)],
    exports: [
      ...(definition.exports ?? []),
      getRedisPoolToken(extras.name),
      getIoRedisConnectionToken(extras.name),
      PoolMetricsModule,
      RedisPoolRegistryModule,
    ],
  };
}
