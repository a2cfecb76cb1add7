export * from './config/index.js';
export { ErrorWindow } from './error-window.js';
export { HttpPoolClient, type HttpPoolHealthDetails } from './http-pool.client.js';
export {
  DEFAULT_HTTP_POOL_NAME,
  ERR_POOL_UNSUPPORTED_OPTION,
  HTTP_POOL_DEGRADED_ERROR_RATIO,
  HTTP_POOL_ERROR_WINDOW_MS,
} from './http-pool.constants.js';
export { InjectHttpPool, InjectHttpPoolRequester } from './http-pool.decorators.js';
export { HttpPoolHealthIndicator, type HttpPoolHealthOptions } from './http-pool.health.js';
export { httpErrorType } from './http-pool.metrics.js';
export { HttpPoolModule } from './http-pool.module.js';
export type { HttpPoolModuleExtras } from './http-pool.module-definition.js';
export { HttpPoolService } from './http-pool.service.js';
export {
  getHttpPoolClientToken,
  getHttpPoolRequesterToken,
  getHttpPoolToken,
} from './http-pool.utils.js';
export type { HttpPoolModuleOptions } from './interfaces/http-pool-options.interface.js';
export type {
  HttpPoolOriginStats,
  HttpPoolProxySummary,
  HttpPoolStats,
} from './interfaces/http-pool-stats.interface.js';
export {
  type HttpPoolRequest,
  HttpPoolRequester,
  type HttpPoolRequestOptions,
} from './native/http-pool-requester.js';
export type { HttpPoolResponse } from './native/http-pool-response.js';
export type { HttpPoolBody, HttpPoolHeaders, HttpPoolQuery } from './native/native-request.js';
export { PooledHttpService } from './pooled-http.service.js';
export {
  hasIdempotencyKey,
  IDEMPOTENT_METHODS,
  isRequestRetryable,
  parseRetryAfterMs,
  RETRYABLE_STATUSES,
  type RetryReason,
  retryReasonForError,
  retryReasonForStatus,
} from './retry/retry-rules.js';
export { type KeepAliveHint, parseKeepAliveHeader } from './transport/keep-alive.js';
