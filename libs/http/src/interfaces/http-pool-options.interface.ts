import type { HttpPoolConfigInput } from '@nest-pools/core';

/**
 * Explicit options of one pooled HTTP client (milliseconds for durations): any key of
 * `HttpPoolConfig` from `@nest-pools/core` — `baseURL`, `headers`, `poolLimit`, `limitPerHost`,
 * `timeoutTotalMs`, `connectTimeoutMs`, `readTimeoutMs`, `keepAliveTimeoutMs`, `retries`,
 * `retryBackoffMs`, `retryAfterMaxMs`, `retryNonIdempotent`, `dnsCacheTtlMs`, `maxRedirects`,
 * `userAgent`, `transport`, `healthUrl`, `healthTimeoutMs`, `shutdownTimeoutMs`. Keys not given
 * come from the HTTP env variables (read through `ConfigService`), then the `APP_ENV` preset, then
 * the library default. The client name is the module's top-level `name`, not an option here.
 */
export type HttpPoolModuleOptions = Omit<HttpPoolConfigInput, 'name'>;

/** Top-level settings of one `HttpPoolModule` import (never produced by an async factory). */
export interface HttpPoolModuleExtras {
  /**
   * Client name: selects the injection token (`InjectHttpPool(name)`) and labels metrics. The
   * `default` client is also `@nestjs/axios`'s `HttpService`.
   * @default 'default'
   */
  name: string;
  /**
   * Register the module globally.
   * @default false
   */
  isGlobal: boolean;
}
