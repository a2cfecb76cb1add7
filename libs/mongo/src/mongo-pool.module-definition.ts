import { ConfigurableModuleBuilder } from '@nestjs/common';

import type { MongoPoolModuleOptions } from './interfaces/mongo-pool-options.interface.js';
import { DEFAULT_MONGO_POOL_NAME } from './mongo-pool.constants.js';

/** Top-level options next to the pool options (never returned by an async factory). */
export interface MongoPoolModuleExtras {
  /**
   * Pool name: tokens, metrics labels, health keys and log context use it.
   * @default 'default'
   */
  name: string;
  /**
   * Makes `MongoPoolService` and `MongoPoolHealthIndicator` of this module visible app-wide.
   * The connection itself is always app-wide, as `@nestjs/mongoose` connections are.
   * @default false
   */
  isGlobal: boolean;
}

export const {
  ConfigurableModuleClass: MongoPoolConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: MONGO_POOL_MODULE_OPTIONS,
  OPTIONS_TYPE: MONGO_POOL_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MONGO_POOL_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MongoPoolModuleOptions>({ moduleName: 'MongoPool' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMongoPoolOptions')
  .setExtras<MongoPoolModuleExtras>(
    { name: DEFAULT_MONGO_POOL_NAME, isGlobal: false },
    (definition, extras) => ({ ...definition, global: extras.isGlobal }),
  )
  .build();
