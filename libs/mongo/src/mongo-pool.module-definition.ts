import { DEFAULT_POOL_MODULE_EXTRAS, type PoolModuleExtras } from '@nest-pools/core';
import { ConfigurableModuleBuilder } from '@nestjs/common';

import type { MongoPoolModuleOptions } from './interfaces/mongo-pool-options.interface.js';

/** Top-level options of `MongoPoolModule.forRoot*` (`name`, `isGlobal`). */
export type MongoPoolModuleExtras = PoolModuleExtras;

export const {
  ConfigurableModuleClass: MongoPoolConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: MONGO_POOL_MODULE_OPTIONS,
  OPTIONS_TYPE: MONGO_POOL_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MONGO_POOL_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MongoPoolModuleOptions>({ moduleName: 'MongoPool' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMongoPoolOptions')
  .setExtras<MongoPoolModuleExtras>({ ...DEFAULT_POOL_MODULE_EXTRAS }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
