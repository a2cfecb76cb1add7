/** Name of the client that is also `@nestjs/axios`'s `HttpService`. */
export const DEFAULT_HTTP_POOL_NAME = 'default';

/** Module-local token of the explicit options of one `HttpPoolModule` import. */
export const HTTP_POOL_MODULE_OPTIONS = 'nest-pools:HttpPoolModuleOptions';

/** Module-local token of the resolved {@link HttpPoolConfig} of one `HttpPoolModule` import. */
export const HTTP_POOL_CONFIG = 'nest-pools:HttpPoolConfig';

/** Span of recent attempts behind the pool-level health (error ratio). */
export const HTTP_POOL_ERROR_WINDOW_MS = 60_000;

/** Fewest attempts in the window before an error ratio means anything. */
export const HTTP_POOL_ERROR_MIN_SAMPLES = 10;

/** Error ratio from which pool-level health reports `degraded`. */
export const HTTP_POOL_DEGRADED_ERROR_RATIO = 0.5;

/** How long one health outcome is reused by concurrent and repeated probes. */
export const HTTP_POOL_HEALTH_CACHE_TTL_MS = 1000;

/** Phase under which each client registers with the core `ShutdownCoordinator` (its log name). */
export const HTTP_SHUTDOWN_PHASE = 'http';

/**
 * When HTTP clients close in the core `ShutdownCoordinator`: first (Redis 200, MongoDB 300), so
 * nothing new is sent upstream while the stores finish their work.
 */
export const HTTP_SHUTDOWN_ORDER = 100;

/**
 * `AxiosError.code` of a request that sets an axios option the client's transport cannot honour
 * (docs/http.md, "axios options"); such a request is never sent nor retried.
 */
export const ERR_POOL_UNSUPPORTED_OPTION = 'ERR_POOL_UNSUPPORTED_OPTION';
