import { parseMongoPoolConfig, poolEnvFromConfig, PoolMetrics } from '@nest-pools/core';
import type { Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import type { MongoPoolModuleOptions } from './interfaces/mongo-pool-options.interface.js';
import { MONGO_POOL_INSTANCE } from './mongo-pool.constants.js';
import { MongoPoolInstance } from './mongo-pool.instance.js';
import { MONGO_POOL_MODULE_OPTIONS } from './mongo-pool.module-definition.js';
import {
  getMongooseConnectionTokenFor,
  getMongoPoolInstanceToken,
  getMongoPoolToken,
} from './mongo-pool.utils.js';

/**
 * Providers of the pool `name`: the pool itself (created here, started in the core module's
 * `onModuleInit`, so a bootstrap that fails while resolving providers leaves nothing connecting), its
 * mongoose connection under {@link getMongoPoolToken} and under the `@nestjs/mongoose` token.
 */
export function createMongoPoolProviders(name: string): Provider[] {
  const instanceToken = getMongoPoolInstanceToken(name);
  return [
    {
      provide: instanceToken,
      useFactory: (
        options: MongoPoolModuleOptions,
        configService: ConfigService,
        metrics: PoolMetrics,
      ): MongoPoolInstance => {
        const config = parseMongoPoolConfig(poolEnvFromConfig('mongo', configService), {
          ...options,
          name,
        });
        return new MongoPoolInstance(config, metrics);
      },
      inject: [MONGO_POOL_MODULE_OPTIONS, ConfigService, PoolMetrics],
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
