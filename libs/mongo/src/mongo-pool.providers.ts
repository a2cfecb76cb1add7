import {
  createPoolConfigProvider,
  PoolMetrics,
  poolMetricsFor,
  ShutdownCoordinator,
} from '@nest-pools/core';
import type { Provider } from '@nestjs/common';

import { MONGO_POOL_DEFINITION, type MongoPoolConfig } from './config/index.js';
import { MONGO_POOL_INSTANCE } from './mongo-pool.constants.js';
import { MongoPoolInstance } from './mongo-pool.instance.js';
import { MONGO_POOL_MODULE_OPTIONS } from './mongo-pool.module-definition.js';
import { MongoPoolService } from './mongo-pool.service.js';
import {
  getMongooseConnectionTokenFor,
  getMongoPoolConfigToken,
  getMongoPoolInstanceToken,
  getMongoPoolToken,
} from './mongo-pool.utils.js';

/**
 * Providers of the pool `name`: its resolved config (one `MONGO_POOL_CONFIG` provider that
 * parses every source the same way), the pool itself (created here, started in the core module's
 * `onModuleInit`, so a bootstrap that fails while resolving providers leaves nothing connecting), its
 * mongoose connection under {@link getMongoPoolToken} and under the `@nestjs/mongoose` token.
 */
export function createMongoPoolProviders(name: string): Provider[] {
  const instanceToken = getMongoPoolInstanceToken(name);
  return [
    createPoolConfigProvider({
      provide: getMongoPoolConfigToken(name),
      definition: MONGO_POOL_DEFINITION,
      name,
      optionsToken: MONGO_POOL_MODULE_OPTIONS,
      module: 'MongoPoolModule',
    }),
    {
      provide: instanceToken,
      useFactory: (
        config: MongoPoolConfig,
        metrics: PoolMetrics,
        service: MongoPoolService,
        coordinator?: ShutdownCoordinator,
      ): MongoPoolInstance =>
        new MongoPoolInstance(
          config,
          poolMetricsFor(metrics, config.poolMetrics),
          service.registry,
          coordinator,
        ),
      inject: [
        getMongoPoolConfigToken(name),
        PoolMetrics,
        MongoPoolService,
        { token: ShutdownCoordinator, optional: true },
      ],
    },
    { provide: MONGO_POOL_INSTANCE, useExisting: instanceToken },
    {
      provide: getMongoPoolToken(name),
      useFactory: (pool: MongoPoolInstance) => pool.connection,
      inject: [instanceToken],
    },
    { provide: getMongooseConnectionTokenFor(name), useExisting: getMongoPoolToken(name) },
  ];
}
