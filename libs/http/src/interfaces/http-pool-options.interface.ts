import type { PoolSourceOptions } from '@nest-pools/core';

import type { HttpPoolConfig } from '../config/index.js';

/**
 * Options of `HttpPoolModule.forRoot()` / the `forRootAsync()` factory (milliseconds for
 * durations): any subset of {@link HttpPoolConfig}. Keys not given come from the HTTP env
 * variables (read through `ConfigService`), then the `APP_ENV` preset, then the library default —
 * unless `ignoreEnv` is set. The client name is the module's top-level `name`, not an option here.
 */
export type HttpPoolModuleOptions = Partial<Omit<HttpPoolConfig, 'name'>> & PoolSourceOptions;
