import type { Dispatcher } from 'undici';

import { UndiciPoolResponse } from '../native/http-pool-response.js';
import type { NativeAttempt } from '../native/native-attempt.js';
import { toAxiosError } from './axios-errors.js';
import type { ReleaseSlot } from './pool-limiter.js';
import type { TransportAttempt } from './transport.interface.js';
import type { UndiciRequestInfo } from './undici-transport.request.js';

/** axios's `request` stand-in of a native attempt, built only when an error needs it. */
export function nativeRequestInfo(attempt: TransportAttempt): UndiciRequestInfo {
  const { url, method } = attempt;
  const path = (attempt as NativeAttempt).path;
  return { method, protocol: url.protocol, host: url.host, path, responseURL: url.origin + path };
}

/**
 * Sends one native attempt with undici's `request()` and hands out its response with undici's
 * body stream. The attempt itself is the `signal`; the `poolLimit` slot is given back when the
 * body ends or closes, or at once when the request fails before a response.
 */
export async function sendNative(
  dispatcher: Dispatcher,
  attempt: NativeAttempt,
  release: ReleaseSlot,
): Promise<UndiciPoolResponse> {
  let handedOut = false;
  try {
    const data = await dispatcher.request({
      origin: attempt.url.origin,
      path: attempt.path,
      method: attempt.method,
      headers: attempt.headers,
      body: attempt.body,
      signal: attempt,
      maxRedirections: attempt.maxRedirections,
      throwOnMaxRedirect: true,
    } as Dispatcher.RequestOptions);
    // At the body's end, not only at its close (a turn later): a caller that reads the body and
    // sends its next request at once finds the slot free instead of queueing for its own.
    data.body.once('end', release);
    data.body.once('close', release);
    handedOut = true;
    return new UndiciPoolResponse(data, attempt.url);
  } catch (error) {
    throw attempt.aborted
      ? attempt.reason
      : toAxiosError(error, attempt.config, nativeRequestInfo(attempt));
  } finally {
    if (!handedOut) release();
  }
}
