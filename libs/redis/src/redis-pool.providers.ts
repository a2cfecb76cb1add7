import {
  type EnvSource,
  PoolMetrics,
  PoolMetricsModule,
  REDIS_POOL_ENV,
  ShutdownCoordinator,
} from '@nest-pools/core';
import type { DynamicModule, Provider } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';

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
export const REDIS_POOL_ENV_VARIABLES: readonly string[] = Object.freeze([
  'APP_ENV',
  'NODE_ENV',
  ...REDIS_POOL_ENV.flatMap((v) => (v.env === undefined ? [] : [v.env, ...v.aliases])),
]);

/**
 * The Redis variables as `ConfigService` sees them (validated config, `.env` files and
 * `process.env`), as an `EnvSource` for the config parser.
 * @param config The application's ConfigService.
 */
export function redisEnvFromConfig(config: ConfigService): EnvSource {
  const env: Record<string, string | undefined> = {};
  for (const name of REDIS_POOL_ENV_VARIABLES) {
    const value: unknown = config.get(name);
    if (value !== undefined && value !== null) {
      env[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  }
  return env;
}

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
