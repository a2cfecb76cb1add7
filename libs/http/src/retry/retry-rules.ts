/** Methods that may be sent twice without changing the outcome (RFC 9110 §9.2.2). */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'TRACE',
]);

/** Response statuses that mean "try again later" rather than "this request is wrong". */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * Error codes of failures where the upstream either never saw the request or dropped the
 * connection (the keep-alive race lands here as ECONNRESET / UND_ERR_SOCKET / EPIPE). Read
 * timeouts (UND_ERR_HEADERS_TIMEOUT, UND_ERR_BODY_TIMEOUT) and the total timeout are not here:
 * the upstream is slow, and asking it again only adds load and blows the caller's time budget.
 */
const NETWORK_ERROR_REASONS: Readonly<Record<string, RetryReason>> = {
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  UND_ERR_SOCKET: 'connection_reset',
  ECONNREFUSED: 'connection_refused',
  ETIMEDOUT: 'connect_timeout',
  UND_ERR_CONNECT_TIMEOUT: 'connect_timeout',
  EAI_AGAIN: 'dns_error',
  ENETUNREACH: 'network_error',
  EHOSTUNREACH: 'network_error',
};

/** Bounded set of `reason` label values of `http_client_retries_total`. */
export type RetryReason =
  | 'connection_reset'
  | 'connection_refused'
  | 'connect_timeout'
  | 'dns_error'
  | 'network_error'
  | 'status_429'
  | 'status_502'
  | 'status_503'
  | 'status_504';

/** Minimal request view the retry rules need (works for axios configs and raw requests). */
export interface RetryableRequestInfo {
  method: string;
  /** Request headers; only `Idempotency-Key` is looked at (case-insensitive). */
  headers?: Readonly<Record<string, unknown>>;
  /** `true` when the body cannot be sent twice (a stream). */
  bodyIsStream?: boolean;
}

/** True when the request carries an `Idempotency-Key` header (any case). */
export function hasIdempotencyKey(headers: Readonly<Record<string, unknown>> | undefined): boolean {
  if (!headers) return false;
  for (const key of Object.keys(headers)) {
    if (key.length === 15 && key.toLowerCase() === 'idempotency-key') {
      const value = headers[key];
      return value !== undefined && value !== null && value !== '' && value !== false;
    }
  }
  return false;
}

/**
 * Whether a request may be retried at all: idempotent methods, or any method carrying an
 * `Idempotency-Key`, or every method when the client opted in with `retryNonIdempotent`. A
 * streamed body is never retried: it was consumed by the first attempt.
 */
export function isRequestRetryable(
  req: RetryableRequestInfo,
  retryNonIdempotent: boolean,
): boolean {
  if (req.bodyIsStream) return false;
  if (retryNonIdempotent) return true;
  return IDEMPOTENT_METHODS.has(req.method.toUpperCase()) || hasIdempotencyKey(req.headers);
}

/** Reason to retry an HTTP status, or `undefined` when the status is final. */
export function retryReasonForStatus(status: number): RetryReason | undefined {
  return RETRYABLE_STATUSES.has(status) ? (`status_${status}` as RetryReason) : undefined;
}

/**
 * Reason to retry a failed attempt, from its network error code (also found on its `cause`) or,
 * for `AxiosError`s, the status of the response it carries; `undefined` when the failure is final.
 */
export function retryReasonForError(error: unknown): RetryReason | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  // The code comes first: a body cut off mid-stream carries a 200 response and a network code.
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code in NETWORK_ERROR_REASONS) {
    return NETWORK_ERROR_REASONS[code];
  }
  // A proxy that could not open a CONNECT tunnel answered with a status of its own (502, 503…).
  if (code === 'ERR_PROXY_TUNNEL') {
    const proxyStatus = (error as { status?: unknown }).status;
    return typeof proxyStatus === 'number' ? retryReasonForStatus(proxyStatus) : undefined;
  }
  const status = (error as { response?: { status?: unknown } }).response?.status;
  if (typeof status === 'number') return retryReasonForStatus(status);
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error ? retryReasonForError(cause) : undefined;
}

/**
 * Parses `Retry-After` (delay-seconds or an HTTP-date) into milliseconds from `nowMs`, or
 * `undefined` when absent or malformed. A date in the past gives 0.
 */
export function parseRetryAfterMs(
  value: string | string[] | undefined | null,
  nowMs: number = Date.now(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === null) return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date always names the weekday and month; bare numbers like "-1" are not dates.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
