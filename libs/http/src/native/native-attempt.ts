import type { Readable } from 'node:stream';

import type { InternalAxiosRequestConfig } from 'axios';

import { PooledAttempt } from '../transport/pooled-attempt.js';

/** A request body the native client sends as it is. */
export type NativeBody = string | Uint8Array | Readable;

/**
 * One request of the native client on the undici transport: the target split into a cached
 * origin (`url`, for the breaker, the limits and the metric labels) and the path, the headers as
 * undici's flat list and the final body. It is also the `signal` undici listens to, so a request
 * without a caller signal allocates no `AbortController`.
 */
export class NativeAttempt extends PooledAttempt {
  private abortListener: ((reason: unknown) => void) | undefined;

  constructor(
    config: InternalAxiosRequestConfig,
    origin: URL,
    method: string,
    /** Path and query string, as sent on the request line. */
    readonly path: string,
    /** Request headers as undici's flat `[name, value, …]` list. */
    readonly headers: string[],
    /** The request body, already serialized. */
    readonly body: NativeBody | undefined,
    /** Redirects followed before giving up (`maxRedirects`). */
    readonly maxRedirections: number,
  ) {
    super(config, origin, method);
  }

  /** `EventTarget` shape undici's `signal` option takes: the one listener slot of the attempt. */
  addEventListener(_type: 'abort', listener: (reason: unknown) => void): void {
    this.abortListener = listener;
    this.onAbort(listener);
  }

  removeEventListener(_type: 'abort', listener: (reason: unknown) => void): void {
    // A finished attempt's late removal must not drop the listener of the attempt after it.
    if (this.abortListener !== listener) return;
    this.abortListener = undefined;
    this.onAbort(undefined);
  }

  /** The request line target, for error reports (`request.path`). */
  get href(): string {
    return `${this.url.origin}${this.path}`;
  }
}
