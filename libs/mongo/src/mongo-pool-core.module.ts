import {
  POOL_CONFIG_IMPORTS,
  PoolMetrics,
  PoolMetricsModule,
  ShutdownCoordinator,
} from '@nest-pools/core';
import {
  type DynamicModule,
  Global,
  Inject,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
  type Provider,
} from '@nestjs/common';
import { Module } from '@nestjs/common';

import {
  MONGO_POOL_INSTANCE,
  MONGO_SHUTDOWN_ORDER,
  MONGO_SHUTDOWN_PHASE,
} from './mongo-pool.constants.js';
import { MongoPoolInstance } from './mongo-pool.instance.js';
import { createMongoPoolProviders } from './mongo-pool.providers.js';
import { getMongooseConnectionTokenFor, getMongoPoolToken } from './mongo-pool.utils.js';

/**
 * Owns one pool: its options, the client and the mongoose connection, started while the module
 * initialises and closed in `onApplicationShutdown`. Global like `@nestjs/mongoose`'s core
 * module, because `MongooseModule.forFeature()` resolves the connection from the global scope.
 * Only the connection tokens are exported; everything else stays inside.
 */
@Global()
@Module({})
export class MongoPoolCoreModule implements OnModuleInit, OnApplicationShutdown {
  private unregister: (() => void) | undefined;

  constructor(
    @Inject(MONGO_POOL_INSTANCE) private readonly pool: MongoPoolInstance,
    private readonly metrics: PoolMetrics,
    @Optional() private readonly coordinator?: ShutdownCoordinator,
  ) {}

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
      imports: [...POOL_CONFIG_IMPORTS, PoolMetricsModule, ...imports],
      providers: [...optionsProviders, ...createMongoPoolProviders(name)],
      exports: [getMongoPoolToken(name), getMongooseConnectionTokenFor(name)],
    };
  }

  async onModuleInit(): Promise<void> {
    // Started here rather than in the provider factory: when resolving another provider fails,
    // Nest never runs lifecycle hooks, and a client started earlier would keep connecting.
    // With failFast this rejects, which fails bootstrap (app.init / listen).
    await this.pool.start();
    this.unregister = this.coordinator?.register({
      name: `mongodb "${this.pool.name}"`,
      phase: MONGO_SHUTDOWN_PHASE,
      order: MONGO_SHUTDOWN_ORDER,
      timeoutMs: this.pool.config.shutdownTimeoutMS,
      close: () => this.pool.close(),
      describeOpen: () => this.pool.describeOpen(),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    // With a coordinator, HTTP agents and Redis close first, in its fixed order.
    if (this.coordinator) await this.coordinator.closeAll();
    else await this.pool.close();
    this.unregister?.();
    this.metrics.forgetPool(this.pool.name);
  }
}
