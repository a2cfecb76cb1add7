import {
  DEFAULT_POOL_MODULE_EXTRAS,
  POOL_CONFIG_IMPORTS,
  type PoolModuleExtras,
} from '@nest-pools/core';
import { ConfigurableModuleBuilder } from '@nestjs/common';

import { HTTP_POOL_MODULE_OPTIONS } from './http-pool.constants.js';
import { createHttpPoolProviders, httpPoolExports } from './http-pool.providers.js';
import type { HttpPoolModuleOptions } from './interfaces/http-pool-options.interface.js';

/** Top-level options of `HttpPoolModule.forRoot*` (`name`, `isGlobal`). */
export type HttpPoolModuleExtras = PoolModuleExtras;

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
  .setExtras<HttpPoolModuleExtras>({ ...DEFAULT_POOL_MODULE_EXTRAS }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    imports: [...(definition.imports ?? []), ...POOL_CONFIG_IMPORTS],
    // Name-specific tokens make every client its own dynamic module: two names never merge.
    providers: [...(definition.providers ?? []), ...createHttpPoolProviders(extras.name)],
    exports: [...(definition.exports ?? []), ...httpPoolExports(extras.name)],
  }))
  .build();
