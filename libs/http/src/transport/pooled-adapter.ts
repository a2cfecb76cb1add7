import { Readable } from 'node:stream';

import type { AxiosAdapter, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { AxiosError, CanceledError } from 'axios';
import buildFullPath from 'axios/unsafe/core/buildFullPath.js';
import buildURL from 'axios/unsafe/helpers/buildURL.js';
import type { IRetryBackoffContext } from 'cockatiel';
import { DelegateBackoff, handleWhen, retry } from 'cockatiel';

import type { RetryReason } from '../retry/retry-rules.js';
import {
  isRequestRetryable,
  parseRetryAfterMs,
  retryReasonForError,
  retryReasonForStatus,
} from '../retry/retry-rules.js';
import { settle, totalTimeoutError } from './axios-errors.js';
import type { SendAttempt, TransportAttempt } from './transport.interface.js';

/** Retry policy of one client. */
export interface RetrySettings {
  /** Retries after the first attempt; 0 turns retry off. */
  retries: number;
  /** Retry POST/PATCH and other non-idempotent requests too. */
  retryNonIdempotent: boolean;
  /** Longest `Retry-After` honoured; a response asking for a longer wait is final. */
  retryAfterMaxMs: number;
  /** Backoff before retry number `attempt` (1-based) when the upstream gave no `Retry-After`. */
  backoffMs(attempt: number): number;
}

/** Receives what happens to requests, for metrics and health. */
export interface RequestObserver {
  /** One attempt ended: with a response (`status`) or with a failure (`error`). */
  attemptFinished(
    url: URL,
    method: string,
    status: number | undefined,
    seconds: number,
    error: unknown,
  ): void;
  /** A retry is scheduled after `delayMs`. */
  retrying(url: URL, reason: RetryReason, delayMs: number): void;
}

type RetryContext = IRetryBackoffContext<unknown>;

/**
 * How `PooledHttpService` cancels a request without an `AbortSignal`: it offers a hook while it
 * calls axios, the pooled adapter takes it (axios reaches the adapter synchronously when no
 * request interceptor is registered) and fills in `cancel`.
 */
export interface CancelHook {
  /** Cancels the request with a `CanceledError`; set while the request is in flight. */
  cancel: (() => void) | undefined;
}

let offeredHook: CancelHook | undefined;
const pooledAdapters = new WeakSet<AxiosAdapter>();

/** True for adapters made by {@link createPooledAdapter}. */
export function isPooledAdapter(adapter: unknown): boolean {
  return typeof adapter === 'function' && pooledAdapters.has(adapter as AxiosAdapter);
}

/**
 * Calls `start` (which must reach a pooled adapter synchronously) with `hook` on offer; the
 * adapter that starts during the call takes it.
 */
export function withCancelHook<T>(hook: CancelHook, start: () => T): T {
  offeredHook = hook;
  try {
    return start();
  } finally {
    offeredHook = undefined;
  }
}

/**
 * The attempts of one request and their common cancellation: a plain flag and one listener slot,
 * with an `AbortSignal` made only for the code that needs one (stream responses, the `poolLimit`
 * queue, the retry wait, the `http` transport). Most requests never allocate it.
 */
class PooledAttempt implements TransportAttempt {
  aborted = false;
  reason: unknown = undefined;
  private listener: ((reason: unknown) => void) | undefined;
  private controller: AbortController | undefined;

  constructor(
    readonly config: InternalAxiosRequestConfig,
    readonly url: URL,
    readonly method: string,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  onAbort(listener: ((reason: unknown) => void) | undefined): void {
    this.listener = listener;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.listener;
    this.listener = undefined;
    listener?.(reason);
    this.controller?.abort(reason);
  }
}

/**
 * Builds the axios adapter of a pooled client around a transport: it owns what spans all attempts
 * of one request — the total `timeout`, `signal` / `cancelToken` cancellation, the retry policy
 * (cockatiel) with `Retry-After` and full-jitter backoff, `validateStatus` — and reports every
 * attempt to the observer.
 */
export function createPooledAdapter(
  send: SendAttempt,
  settings: RetrySettings,
  observer?: RequestObserver,
): AxiosAdapter {
  const observe = (attempt: TransportAttempt, started: number, status?: number, error?: unknown) =>
    observer?.attemptFinished(
      attempt.url,
      attempt.method,
      status,
      (performance.now() - started) / 1000,
      error,
    );

  const once = async (attempt: TransportAttempt): Promise<AxiosResponse> => {
    if (attempt.aborted) throw attempt.reason;
    const started = performance.now();
    try {
      const response = await send(attempt);
      observe(attempt, started, response.status);
      return response;
    } catch (error) {
      observe(attempt, started, undefined, error);
      throw error;
    }
  };

  /** `Retry-After` of a response, in ms, when it sent one. */
  const retryAfterOf = (response: AxiosResponse | undefined): number | undefined =>
    parseRetryAfterMs(response?.headers?.['retry-after'] as string | undefined);
  /** A wait longer than `retryAfterMaxMs` is not worth holding the caller for: give up. */
  const waitsTooLong = (response: AxiosResponse | undefined): boolean =>
    (retryAfterOf(response) ?? 0) > settings.retryAfterMaxMs;

  const retryDelay = (context: RetryContext): number => {
    const result = context.result as { error?: unknown; value?: AxiosResponse };
    const response =
      result.value ?? (result.error as { response?: AxiosResponse } | undefined)?.response;
    return Math.max(0, retryAfterOf(response) ?? settings.backoffMs(context.attempt));
  };

  const retryableError = (error: unknown): boolean =>
    retryReasonForError(error) !== undefined &&
    !waitsTooLong((error as { response?: AxiosResponse }).response);
  const retryableResult = (response: AxiosResponse): boolean =>
    retryReasonForStatus(response.status) !== undefined && !waitsTooLong(response);

  const policy = retry(
    handleWhen(retryableError).orWhenResult((value) => retryableResult(value as AxiosResponse)),
    { maxAttempts: settings.retries, backoff: new DelegateBackoff<RetryContext>(retryDelay) },
  );
  policy.onRetry((event) => {
    const response = 'value' in event ? (event.value as AxiosResponse) : undefined;
    const error = 'error' in event ? event.error : undefined;
    const reason = response ? retryReasonForStatus(response.status) : retryReasonForError(error);
    // A retried streamed response is never handed out; free its socket now.
    if (response?.data instanceof Readable) response.data.destroy();
    const config = response?.config ?? (error as { config?: InternalAxiosRequestConfig }).config;
    if (reason && config) observer?.retrying(requestUrl(config), reason, event.delay);
  });

  const pooledAdapter = async (config: InternalAxiosRequestConfig) => {
    // Taken before anything else: the hook belongs to the request that reaches this line first.
    const hook = offeredHook;
    offeredHook = undefined;
    const url = requestUrl(config);
    const method = (config.method ?? 'get').toUpperCase();
    const attempt = new PooledAttempt(config, url, method);
    const unlink = linkCancellation(config, attempt, hook);
    let unlinked = false;
    const cleanup = (keepSignal: boolean) => {
      if (unlinked) return;
      if (!keepSignal) unlinked = true;
      unlink(keepSignal);
    };
    try {
      let response: AxiosResponse;
      const retryable =
        settings.retries > 0 &&
        isRequestRetryable(
          {
            method,
            headers: config.headers,
            bodyIsStream: config.data instanceof Readable,
          },
          settings.retryNonIdempotent,
        );
      if (!retryable) {
        response = await once(attempt);
      } else {
        // The first attempt runs outside the policy: almost every request succeeds at once, and
        // the policy's bookkeeping is only worth paying once a retry is actually due. Its outcome
        // is then replayed as the policy's attempt 0, so cockatiel runs the whole retry loop.
        let first: { value: AxiosResponse } | { error: unknown };
        try {
          first = { value: await once(attempt) };
        } catch (error) {
          first = { error };
        }
        if ('value' in first ? !retryableResult(first.value) : !retryableError(first.error)) {
          if ('error' in first) throw first.error;
          response = first.value;
        } else {
          let replay: typeof first | undefined = first;
          response = await abortable(
            policy.execute(() => {
              const outcome = replay;
              replay = undefined;
              if (!outcome) return once(attempt);
              if ('error' in outcome) throw outcome.error;
              return outcome.value;
            }, attempt.signal),
            attempt.signal,
          );
        }
      }
      const body: unknown = response.data;
      if (body instanceof Readable) {
        try {
          settle(response);
        } catch (error) {
          // Nobody reads the body of a rejected stream response; free its socket.
          body.destroy();
          throw error;
        }
        // The total timeout ends with the headers; the caller's signal keeps aborting the body.
        cleanup(true);
        body.once('close', () => cleanup(false));
        return response;
      }
      settle(response);
      cleanup(false);
      return response;
    } catch (error) {
      cleanup(false);
      throw error;
    }
  };
  pooledAdapters.add(pooledAdapter);
  return pooledAdapter;
}

/** The absolute URL axios's own adapters would call: base URL, path and serialized params. */
function requestUrl(config: InternalAxiosRequestConfig): URL {
  const full = buildFullPath(config.baseURL, config.url, config.allowAbsoluteUrls, config);
  const href = buildURL(full, config.params, config.paramsSerializer);
  try {
    return new URL(href);
  } catch (error) {
    throw AxiosError.from(error, AxiosError.ERR_INVALID_URL, config);
  }
}

/**
 * Ties axios's cancellation inputs (caller `signal`, `cancelToken`, total `timeout`) to one
 * controller whose `reason` is the error the request must fail with. Returns the unlink function;
 * for streamed responses the caller's signal stays linked so it can still abort the body.
 */
function linkCancellation(
  config: InternalAxiosRequestConfig,
  attempt: PooledAttempt,
  hook: CancelHook | undefined,
): (keepSignal: boolean) => void {
  const cancel = (reason?: unknown) => {
    if (attempt.aborted) return;
    attempt.abort(
      reason instanceof CanceledError ? reason : new CanceledError(undefined, config, undefined),
    );
  };
  const external = config.signal as AbortSignal | undefined;
  const onAbort = () => cancel();
  if (external) {
    if (external.aborted) cancel();
    else external.addEventListener('abort', onAbort, { once: true });
  }
  config.cancelToken?.subscribe(cancel);
  if (hook) hook.cancel = () => cancel();
  const timeout = config.timeout ?? 0;
  const timer =
    timeout > 0
      ? setTimeout(() => {
          if (!attempt.aborted) attempt.abort(totalTimeoutError(config));
        }, timeout)
      : undefined;
  return (keepSignal) => {
    if (timer) clearTimeout(timer);
    config.cancelToken?.unsubscribe(cancel);
    if (!keepSignal) {
      external?.removeEventListener('abort', onAbort);
      if (hook) hook.cancel = undefined;
    }
  };
}

/** Settles with `signal.reason` as soon as the signal aborts (cockatiel waits out its backoff). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new AxiosError(String(error)));
      },
    );
  });
}
