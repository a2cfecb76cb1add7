import type { Readable } from 'node:stream';

import type { InternalAxiosRequestConfig } from 'axios';
import { CanceledError } from 'axios';

import { totalTimeoutError } from '../transport/axios-errors.js';
import { PooledAttempt } from '../transport/pooled-attempt.js';

/** A request body the native client sends as it is. */
export type NativeRequestBody = string | Uint8Array | Readable;

/** The total timeout's timer callback: one function for every attempt, no closure per request. */
function timedOut(attempt: NativeAttempt): void {
  if (!attempt.aborted) attempt.abort(totalTimeoutError(attempt.config));
}

/**
 * One request of the native client on the undici transport: the target split into a cached
 * origin (`url`, for the breaker, the limits and the metric labels) and the path, the headers as
 * undici's flat list and the final body. It also carries the request's cancellation: the
 * caller's `signal` (the attempt is its listener object) and the total timeout.
 */
export class NativeAttempt extends PooledAttempt {
  private timer: NodeJS.Timeout | undefined;
  private external: AbortSignal | undefined;

  constructor(
    config: InternalAxiosRequestConfig,
    url: URL,
    origin: string,
    method: string,
    /** Path and query string, as sent on the request line. */
    readonly path: string,
    /** Request headers as undici's flat `[name, value, …]` list. */
    readonly headers: string[],
    /** The request body, already serialized. */
    readonly body: NativeRequestBody | undefined,
    /** Redirects followed before giving up (`maxRedirects`). */
    readonly maxRedirections: number,
  ) {
    super(config, url, method, origin);
  }

  /**
   * Starts the cancellation inputs: `signal` cancels with `ERR_CANCELED` until {@link unlink},
   * `timeoutMs` (0 = none) fails the request with the total-timeout error until {@link endTimeout}.
   */
  link(signal: AbortSignal | undefined, timeoutMs: number): void {
    if (signal) {
      if (signal.aborted) {
        this.handleEvent();
      } else {
        this.external = signal;
        signal.addEventListener('abort', this, { once: true });
      }
    }
    if (timeoutMs > 0) this.timer = setTimeout(timedOut, timeoutMs, this);
  }

  /** Whether the caller's signal is linked (until {@link unlink}). */
  get linkedToSignal(): boolean {
    return this.external !== undefined;
  }

  /** The caller's signal aborted (the attempt is the `abort` listener object). */
  handleEvent(): void {
    if (!this.aborted) this.abort(new CanceledError(undefined, this.config, undefined));
  }

  /** The total timeout ends: the response headers are in, or the request failed. */
  endTimeout(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The caller's signal no longer concerns the request (its body was read, or it failed). */
  unlink(): void {
    this.endTimeout();
    this.external?.removeEventListener('abort', this);
    this.external = undefined;
  }
}
