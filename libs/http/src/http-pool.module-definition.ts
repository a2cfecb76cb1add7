import { ConfigurableModuleBuilder } from '@nestjs/common';

import { DEFAULT_HTTP_POOL_NAME, HTTP_POOL_MODULE_OPTIONS } from './http-pool.constants.js';
import { createHttpPoolProviders, httpPoolExports } from './http-pool.providers.js';
import type {
  HttpPoolModuleExtras,
  HttpPoolModuleOptions,
} from './interfaces/http-pool-options.interface.js';

/** Generated base class, options token and option types of {@link HttpPoolModule}. */
export const {
  ConfigurableModuleClass: HttpPoolConfigurableModuleClass,
  OPTIONS_TYPE: HTTP_POOL_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: HTTP_POOL_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<HttpPoolModuleOptions>({
  moduleName: 'HttpPool',
  optionsInjectionToken: HTTP_POOL_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<HttpPoolModuleExtras>(
    { name: DEFAULT_HTTP_POOL_NAME, isGlobal: false },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      // Name-specific tokens make every client its own dynamic module: two names never merge.
      providers: [...(definition.providers ?? []), ...createHttpPoolProviders(extras.name)],
      exports: [...(definition.exports ?? []), ...httpPoolExports(extras.name)],
    }),
  )
  .build();
