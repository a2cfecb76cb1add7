import {
  createPoolConfigProvider,
  PoolMetrics,
  poolMetricsFor,
  ShutdownCoordinator,
} from '@nest-pools/core';
import { HttpService } from '@nestjs/axios';
import type { Provider } from '@nestjs/common';

import { HTTP_POOL_DEFINITION, type HttpPoolConfig } from './config/index.js';
import { HttpPoolClient } from './http-pool.client.js';
import {
  DEFAULT_HTTP_POOL_NAME,
  HTTP_POOL_CONFIG,
  HTTP_POOL_MODULE_OPTIONS,
} from './http-pool.constants.js';
import { HttpPoolService } from './http-pool.service.js';
import {
  getHttpPoolClientToken,
  getHttpPoolRequesterToken,
  getHttpPoolToken,
} from './http-pool.utils.js';

/** The providers one `HttpPoolModule` import adds for the client `name`. */
export function createHttpPoolProviders(name: string): Provider[] {
  const providers: Provider[] = [
    createPoolConfigProvider({
      provide: HTTP_POOL_CONFIG,
      definition: HTTP_POOL_DEFINITION,
      name,
      optionsToken: HTTP_POOL_MODULE_OPTIONS,
      module: 'HttpPoolModule',
    }),
    {
      provide: getHttpPoolClientToken(name),
      useFactory: (
        config: HttpPoolConfig,
        metrics: PoolMetrics,
        service: HttpPoolService,
        coordinator?: ShutdownCoordinator,
      ) =>
        new HttpPoolClient(
          config,
          poolMetricsFor(metrics, config.poolMetrics),
          service.registry,
          coordinator,
        ),
      inject: [
        HTTP_POOL_CONFIG,
        PoolMetrics,
        HttpPoolService,
        { token: ShutdownCoordinator, optional: true },
      ],
    },
    {
      provide: getHttpPoolToken(name),
      useFactory: (client: HttpPoolClient) => client.httpService,
      inject: [getHttpPoolClientToken(name)],
    },
    {
      provide: getHttpPoolRequesterToken(name),
      useFactory: (client: HttpPoolClient) => client.requester,
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
    getHttpPoolRequesterToken(name),
  ];
  if (name === DEFAULT_HTTP_POOL_NAME) tokens.push(HttpService);
  return tokens;
}
