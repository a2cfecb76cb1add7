import { POOL_CONFIG_IMPORTS, PoolMetricsModule } from '@nest-pools/core';
import {
  type DynamicModule,
  Global,
  Module,
  type ModuleMetadata,
  type Provider,
} from '@nestjs/common';

import { createMongoPoolProviders } from './mongo-pool.providers.js';
import { getMongooseConnectionTokenFor, getMongoPoolToken } from './mongo-pool.utils.js';
import { MongoPoolRegistryModule } from './mongo-pool-registry.module.js';

/**
 * Holds one pool: its resolved config, the lifecycle owner ({@link MongoPoolInstance}: started
 * while the module initialises, closed in `onApplicationShutdown`) and the mongoose connection. Global like `@nestjs/mongoose`'s core
 * module, because `MongooseModule.forFeature()` resolves the connection from the global scope.
 * Only the connection tokens are exported; everything else stays inside.
 */
@Global()
@Module({})
export class MongoPoolCoreModule {
  /**
   * The core module of the pool `name`.
   *
   * @param optionsProviders the options provider(s) built by the public module's builder
   * @param imports modules the options factory needs
   */
  static register(
    name: string,
    optionsProviders: Provider[],
    imports: NonNullable<ModuleMetadata['imports']>,
  ): DynamicModule {
    return {
      module: MongoPoolCoreModule,
      imports: [...POOL_CONFIG_IMPORTS, PoolMetricsModule, MongoPoolRegistryModule, ...imports],
      providers: [...optionsProviders, ...createMongoPoolProviders(name)],
      exports: [getMongoPoolToken(name), getMongooseConnectionTokenFor(name)],
    };
  }
}
