import { ConfigurableModuleBuilder } from '@nestjs/common';

import type { RedisPoolModuleOptions } from './interfaces/redis-pool-options.interface.js';
import { DEFAULT_REDIS_POOL_NAME, REDIS_POOL_MODULE_OPTIONS } from './redis-pool.constants.js';
import { withRedisPoolProviders } from './redis-pool.providers.js';

/** Top-level options of `forRoot`/`forRootAsync`, never produced by a factory. */
export interface RedisPoolModuleExtras {
  /**
   * Pool name: the key of its tokens (`InjectRedisPool(name)`, `@InjectRedis(name)`), metrics
   * (`pool_name`) and `RedisPoolService` calls. Modules with different names never merge.
   * @default 'default'
   */
  name: string;
  /**
   * Register the module globally, so its client and services are injectable everywhere.
   * @default false
   */
  isGlobal: boolean;
}

export const {
  ConfigurableModuleClass: RedisPoolConfigurableModuleClass,
  OPTIONS_TYPE: REDIS_POOL_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: REDIS_POOL_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisPoolModuleOptions>({
  moduleName: 'RedisPool',
  optionsInjectionToken: REDIS_POOL_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<RedisPoolModuleExtras>(
    { name: DEFAULT_REDIS_POOL_NAME, isGlobal: false },
    (definition, extras) => withRedisPoolProviders(definition, extras),
  )
  .build();
