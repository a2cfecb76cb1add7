import type { InternalAxiosRequestConfig } from 'axios';
import { AxiosError, CanceledError } from 'axios';

import { totalTimeoutError } from './axios-errors.js';
import type { TransportAttempt } from './transport.interface.js';

/**
 * How `PooledHttpService` cancels a request without an `AbortSignal`: it offers a hook while it
 * calls axios, the pooled adapter takes it (axios reaches the adapter synchronously when no
 * request interceptor is registered) and fills in `cancel`.
 */
export interface CancelHook {
  /** Cancels the request with a `CanceledError`; set while the request is in flight. */
  cancel: (() => void) | undefined;
}

/**
 * The attempts of one request and their common cancellation: a plain flag and one listener slot,
 * with an `AbortSignal` made only for the code that needs one (stream responses, the `poolLimit`
 * queue, the retry wait, the `http` transport). Most requests never allocate it.
 */
export class PooledAttempt implements TransportAttempt {
  aborted = false;
  reason: unknown = undefined;
  private listener: ((reason: unknown) => void) | undefined;
  private controller: AbortController | undefined;

  constructor(
    readonly config: InternalAxiosRequestConfig,
    readonly url: URL,
    readonly method: string,
    /** `url.origin`, read once (the breaker, the metrics and the dispatch all need it). */
    readonly origin: string = url.origin,
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

  /**
   * Removes `listener` if it is still the one set: a request that ends after the attempt moved on
   * (a retried response still draining) must not drop the listener of the send after it.
   */
  offAbort(listener: (reason: unknown) => void): void {
    if (this.listener === listener) this.listener = undefined;
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
 * Ties axios's cancellation inputs (caller `signal`, `cancelToken`, total `timeout`) to one
 * controller whose `reason` is the error the request must fail with. Returns the unlink function;
 * for streamed responses the caller's signal stays linked so it can still abort the body.
 */
export function linkCancellation(
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
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // Nobody waits for `promise` any more; its rejection must not go unhandled.
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
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
