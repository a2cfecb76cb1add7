import { DEFAULT_POOL_MODULE_EXTRAS, type PoolModuleExtras } from '@nest-pools/core';
import { ConfigurableModuleBuilder } from '@nestjs/common';

import type { RedisPoolModuleOptions } from './interfaces/redis-pool-options.interface.js';
import { REDIS_POOL_MODULE_OPTIONS } from './redis-pool.constants.js';
import { withRedisPoolProviders } from './redis-pool.providers.js';

/** Top-level options of `RedisPoolModule.forRoot*` (`name`, `isGlobal`). */
export type RedisPoolModuleExtras = PoolModuleExtras;

export const {
  ConfigurableModuleClass: RedisPoolConfigurableModuleClass,
  OPTIONS_TYPE: REDIS_POOL_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: REDIS_POOL_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisPoolModuleOptions>({
  moduleName: 'RedisPool',
  optionsInjectionToken: REDIS_POOL_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<RedisPoolModuleExtras>({ ...DEFAULT_POOL_MODULE_EXTRAS }, (definition, extras) =>
    withRedisPoolProviders(definition, extras),
  )
  .build();
