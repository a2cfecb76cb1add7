import {
  type EnvSource,
  type HttpPoolConfig,
  parseHttpPoolConfig,
  poolEnvFromConfig,
  PoolMetrics,
  ShutdownCoordinator,
} from '@nest-pools/core';
import { HttpService } from '@nestjs/axios';
import type { Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import { HttpPoolClient } from './http-pool.client.js';
import {
  DEFAULT_HTTP_POOL_NAME,
  HTTP_POOL_CONFIG,
  HTTP_POOL_MODULE_OPTIONS,
} from './http-pool.constants.js';
import { getHttpPoolClientToken, getHttpPoolToken } from './http-pool.utils.js';
import type { HttpPoolModuleOptions } from './interfaces/http-pool-options.interface.js';

/** Reads the HTTP variables through `ConfigService` (falls back to `process.env` without it). */
export function httpEnvSource(config: ConfigService | undefined): EnvSource {
  return config ? poolEnvFromConfig('http', config) : process.env;
}

/** The providers one `HttpPoolModule` import adds for the client `name`. */
export function createHttpPoolProviders(name: string): Provider[] {
  const providers: Provider[] = [
    {
      provide: HTTP_POOL_CONFIG,
      useFactory: (options: HttpPoolModuleOptions, config?: ConfigService): HttpPoolConfig =>
        parseHttpPoolConfig(httpEnvSource(config), { ...options, name }),
      inject: [HTTP_POOL_MODULE_OPTIONS, { token: ConfigService, optional: true }],
    },
    {
      provide: getHttpPoolClientToken(name),
      useFactory: (
        config: HttpPoolConfig,
        metrics: PoolMetrics,
        coordinator?: ShutdownCoordinator,
      ) => new HttpPoolClient(config, metrics, coordinator),
      inject: [HTTP_POOL_CONFIG, PoolMetrics, { token: ShutdownCoordinator, optional: true }],
    },
    {
      provide: getHttpPoolToken(name),
      useFactory: (client: HttpPoolClient) => client.httpService,
      inject: [getHttpPoolClientToken(name)],
    },
  ];
  if (name === DEFAULT_HTTP_POOL_NAME) {
    providers.push({ provide: HttpService, useExisting: getHttpPoolToken(name) });
  }
  return providers;
}

/** What one `HttpPoolModule` import exports for the client `name`. */
export function httpPoolExports(name: string): Array<string | typeof HttpService> {
  const tokens: Array<string | typeof HttpService> = [
    getHttpPoolToken(name),
    getHttpPoolClientToken(name),
  ];
  if (name === DEFAULT_HTTP_POOL_NAME) tokens.push(HttpService);
  return tokens;
}
