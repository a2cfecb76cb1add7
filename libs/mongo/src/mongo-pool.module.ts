import { POOL_OPTIONS_FROM_ENV } from '@nest-pools/core';
import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { DEFAULT_MONGO_POOL_NAME } from './mongo-pool.constants.js';
import {
  MONGO_POOL_ASYNC_OPTIONS_TYPE,
  MONGO_POOL_OPTIONS_TYPE,
  MongoPoolConfigurableModuleClass,
} from './mongo-pool.module-definition.js';
import { MongoPoolCoreModule } from './mongo-pool-core.module.js';
import { MongoPoolRegistryModule } from './mongo-pool-registry.module.js';

/**
 * MongoDB connection pools for Nest on mongoose: options from `ConfigService` (`MONGODB_*`),
 * CMAP metrics, a Terminus health indicator, leak detection, background connection when the
 * server is down at boot, and a bounded close at shutdown.
 *
 * Each pool's mongoose `Connection` is injectable with `@InjectMongoPool(name)` and, for
 * `@nestjs/mongoose` code, with `@InjectConnection(name)`; `MongooseModule.forFeature(models,
 * name)` and `@InjectModel(Model.name, name)` work on it (the pool `default` is mongoose's default
 * connection: no name needed there).
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ConfigModule.forRoot(),
 *     MongoPoolModule.forRootAsync(), // MONGODB_URL, MONGODB_MAX_POOL_SIZE, …
 *     MongoPoolModule.forRoot({ name: 'analytics', url: 'mongodb://analytics:27017/events' }),
 *     MongooseModule.forFeature([{ name: Snippet.name, schema: SnippetSchema }]),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class MongoPoolModule extends MongoPoolConfigurableModuleClass {
  /**
   * A pool from explicit options; keys left out come from the env, the preset, the default.
   *
   * @example
   * ```ts
   * MongoPoolModule.forRoot({ url: 'mongodb://db:27017/app', maxPoolSize: 50 })
   * ```
   */
  static override forRoot(options: typeof MONGO_POOL_OPTIONS_TYPE = {}): DynamicModule {
    return this.withPool(super.forRoot(options), options.name);
  }

  /**
   * A pool whose options come from a factory, class or existing provider; with no factory at
   * all, from the `MONGODB_*` variables through `ConfigService`.
   *
   * @example
   * ```ts
   * MongoPoolModule.forRootAsync()
   * MongoPoolModule.forRootAsync({
   *   name: 'analytics',
   *   imports: [ConfigModule],
   *   inject: [ConfigService],
   *   useFactory: (config: ConfigService) => ({ url: config.getOrThrow('ANALYTICS_MONGODB_URL') }),
   * })
   * ```
   */
  static override forRootAsync(options: typeof MONGO_POOL_ASYNC_OPTIONS_TYPE = {}): DynamicModule {
    const hasSource = Boolean(options.useFactory ?? options.useClass ?? options.useExisting);
    const definition = super.forRootAsync(
      hasSource ? options : { ...options, useFactory: () => ({ [POOL_OPTIONS_FROM_ENV]: true }) },
    );
    return this.withPool(definition, options.name);
  }

  private static withPool(definition: DynamicModule, name?: string): DynamicModule {
    const core = MongoPoolCoreModule.register(
      name ?? DEFAULT_MONGO_POOL_NAME,
      definition.providers ?? [],
      definition.imports ?? [],
    );
    return {
      module: MongoPoolModule,
      global: definition.global ?? false,
      imports: [core, MongoPoolRegistryModule, TerminusModule],
      exports: [core, MongoPoolRegistryModule],
    };
  }
}
