import { POOL_OPTIONS_FROM_ENV, PoolMetricsModule } from '@nest-pools/core';
import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import {
  HTTP_POOL_ASYNC_OPTIONS_TYPE,
  HTTP_POOL_OPTIONS_TYPE,
  HttpPoolConfigurableModuleClass,
} from './http-pool.module-definition.js';
import { HttpPoolRegistryModule } from './http-pool-registry.module.js';

/**
 * Outbound HTTP on a pooled keep-alive transport, as `@nestjs/axios`'s `HttpService`. The
 * `default` client **is** `HttpService` (handlers injecting it get the pool); named clients, one
 * per upstream, come from `InjectHttpPool(name)`. Each client has its own socket pool (total and
 * per-host limits, idle timeout below the upstream's), connect/read/total timeouts, retry of
 * idempotent requests with backoff and `Retry-After`, DNS cache, metrics, a Terminus indicator
 * and an orderly close at shutdown.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ConfigModule.forRoot({ isGlobal: true }),
 *     HttpPoolModule.forRootAsync(), // HTTP_* / AIOHTTP_* / REQUESTS_* env variables
 *     HttpPoolModule.forRoot({ name: 'github', baseURL: 'https://api.github.com', retries: 3 }),
 *   ],
 * })
 * export class AppModule {}
 *
 * @Injectable()
 * export class Snippets {
 *   constructor(
 *     private readonly http: HttpService,
 *     @InjectHttpPool('github') private readonly github: HttpService,
 *   ) {}
 * }
 * ```
 */
@Module({
  imports: [PoolMetricsModule, TerminusModule, HttpPoolRegistryModule],
  exports: [HttpPoolRegistryModule],
})
export class HttpPoolModule extends HttpPoolConfigurableModuleClass {
  /**
   * Registers a client with explicit options (milliseconds); keys left out come from the env
   * variables (through `ConfigService` when available), the `APP_ENV` preset, then defaults.
   */
  static override forRoot(options: typeof HTTP_POOL_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /**
   * Registers a client whose options come from a factory, class or existing provider. Without
   * arguments it reads only the env variables (`HTTP_*` and the seeds' `AIOHTTP_*` /
   * `REQUESTS_*` aliases) through `ConfigService`.
   */
  static override forRootAsync(options: typeof HTTP_POOL_ASYNC_OPTIONS_TYPE = {}): DynamicModule {
    const hasSource = Boolean(options.useFactory ?? options.useClass ?? options.useExisting);
    return super.forRootAsync(
      hasSource ? options : { ...options, useFactory: () => ({ [POOL_OPTIONS_FROM_ENV]: true }) },
    );
  }
}
