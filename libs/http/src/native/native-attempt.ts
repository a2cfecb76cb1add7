import type { Readable } from 'node:stream';

import type { InternalAxiosRequestConfig } from 'axios';

import { PooledAttempt } from '../transport/pooled-attempt.js';

/** A request body the native client sends as it is. */
export type NativeRequestBody = string | Uint8Array | Readable;

/**
 * One request of the native client on the undici transport: the target split into a cached
 * origin (`url`, for the breaker, the limits and the metric labels) and the path, the headers as
 * undici's flat list and the final body.
 */
export class NativeAttempt extends PooledAttempt {
  constructor(
    config: InternalAxiosRequestConfig,
    origin: URL,
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
    super(config, origin, method);
  }
}
