import type { AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { AxiosError } from 'axios';

import { withTlsHint } from './tls-errors.js';

/**
 * undici failure codes re-labelled with the Node/axios code callers already test for. Timeout
 * codes stay undici's own (`UND_ERR_CONNECT_TIMEOUT`, `UND_ERR_HEADERS_TIMEOUT`,
 * `UND_ERR_BODY_TIMEOUT`) so the code says which phase ran out of time.
 */
const CODE_ALIASES: Readonly<Record<string, string>> = {
  UND_ERR_SOCKET: 'ECONNRESET',
  UND_ERR_INVALID_ARG: AxiosError.ERR_BAD_OPTION_VALUE,
  UND_ERR_NOT_SUPPORTED: AxiosError.ERR_NOT_SUPPORT,
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: AxiosError.ERR_BAD_REQUEST,
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: AxiosError.ERR_BAD_RESPONSE,
};

/** Wraps a transport failure in an `AxiosError` with a meaningful `code` and the original `cause`. */
export function toAxiosError(
  error: unknown,
  config: InternalAxiosRequestConfig,
  request: unknown,
  response?: AxiosResponse,
): AxiosError {
  if (error instanceof AxiosError) return error;
  // Duck-typed: errors raised by Node internals may come from another realm (VM contexts).
  const err: Error =
    typeof error === 'object' && error !== null && 'message' in error
      ? (error as Error)
      : new Error(String(error));
  const rawCode = (err as { code?: unknown }).code;
  let code = typeof rawCode === 'string' ? (CODE_ALIASES[rawCode] ?? rawCode) : undefined;
  // undici's redirect handler: over the limit, or a redirect back to a URL already visited.
  if (err.message === 'max redirects' || err.message.startsWith('Redirect loop detected')) {
    code = 'ERR_FR_TOO_MANY_REDIRECTS';
  }
  const wrapped = new AxiosError(
    withTlsHint(err.message, rawCode),
    code ?? AxiosError.ERR_NETWORK,
    config,
    request,
    response,
  );
  wrapped.cause = err;
  return wrapped;
}

/** axios's settle rule: resolve when `validateStatus` accepts the status, else reject. */
export function settle(response: AxiosResponse): AxiosResponse {
  const validate = response.config.validateStatus;
  if (!response.status || !validate || validate(response.status)) return response;
  throw new AxiosError(
    `Request failed with status code ${response.status}`,
    response.status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST,
    response.config,
    response.request,
    response,
  );
}

/** The error a request fails with when its total `timeout` runs out (axios wording and codes). */
export function totalTimeoutError(config: InternalAxiosRequestConfig): AxiosError {
  const timeout = config.timeout ?? 0;
  const message =
    config.timeoutErrorMessage ??
    (timeout ? `timeout of ${timeout}ms exceeded` : 'timeout exceeded');
  return new AxiosError(
    message,
    config.transitional?.clarifyTimeoutError ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED,
    config,
  );
}
