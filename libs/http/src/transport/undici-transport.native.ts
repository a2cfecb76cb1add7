import type { IncomingHttpHeaders } from 'node:http';

import type { Dispatcher } from 'undici';

import { UndiciPoolResponse } from '../native/http-pool-response.js';
import type { NativeAttempt, NativeRequestBody } from '../native/native-attempt.js';
import { type BodyFlow, NativeBody } from '../native/native-body.js';
import { toAxiosError } from './axios-errors.js';
import type { ReleaseSlot } from './pool-limiter.js';
import type { TransportAttempt } from './transport.interface.js';
import { isRedirectStatus, RedirectFollower } from './undici-redirects.js';
import { afterUndiciTurn } from './undici-transport.buffered-response.js';
import type { UndiciRequestInfo } from './undici-transport.request.js';

/** axios's `request` stand-in of a native attempt, built only when an error needs it. */
export function nativeRequestInfo(attempt: TransportAttempt): UndiciRequestInfo {
  const { url, method } = attempt;
  const path = (attempt as NativeAttempt).path;
  return { method, protocol: url.protocol, host: url.host, path, responseURL: url.origin + path };
}

/**
 * Sends one native attempt on undici's dispatch API and resolves at the response headers; the
 * body is then fed to the response as it arrives. Redirects are followed here, up to the
 * attempt's `maxRedirections`, on the same `poolLimit` slot, which is given back once undici is
 * done with the request: the body arrived in full, failed, or was cut.
 */
export function sendNative(
  dispatcher: Dispatcher,
  attempt: NativeAttempt,
  release: ReleaseSlot,
): Promise<UndiciPoolResponse> {
  return new Promise<UndiciPoolResponse>((resolve, reject) => {
    new NativeExchange(dispatcher, attempt, release, resolve, reject).start();
  });
}

/**
 * The dispatch handler of one native attempt, across its redirects. Aborts (the total timeout
 * before the headers, the caller's signal until the body's end) come through the attempt.
 */
class NativeExchange implements Dispatcher.DispatchHandler, BodyFlow {
  private controller: Dispatcher.DispatchController | undefined;
  /** Made at the first redirect to follow; until then the attempt is the request line. */
  private redirects: RedirectFollower<NativeRequestBody> | undefined;
  /** While a 3xx body drains: true (send the redirect's hop at its end), or the error to fail with. */
  private next: true | Error | undefined;
  private content: NativeBody | undefined;
  private settled = false;
  private done = false;
  private readonly onAbort = (reason: unknown): void => {
    if (this.content === undefined) this.settle(reason);
    // Before a socket is assigned there is no controller yet: onRequestStart aborts then.
    this.controller?.abort(reason as Error);
  };

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly attempt: NativeAttempt,
    private readonly release: ReleaseSlot,
    private readonly resolve: (response: UndiciPoolResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.attempt.aborted) {
      this.finish();
      this.settle(this.attempt.reason);
      return;
    }
    this.attempt.onAbort(this.onAbort);
    this.dispatch();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.attempt.aborted) controller.abort(this.attempt.reason as Error);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    const { attempt } = this;
    if (statusCode < 200 || attempt.aborted) return;
    if (attempt.maxRedirections > 0 && isRedirectStatus(statusCode)) {
      this.redirects ??= new RedirectFollower(
        {
          origin: attempt.origin,
          path: attempt.path,
          method: attempt.method,
          headers: attempt.headers,
          body: attempt.body,
        },
        attempt.maxRedirections,
      );
      const follow = this.redirects.follow(statusCode, headers.location);
      if (follow !== false) {
        this.next = follow;
        return;
      }
    }
    const content = new NativeBody(this);
    this.content = content;
    this.settle(undefined, new UndiciPoolResponse(statusCode, headers, this.attempt.url, content));
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // A redirect's own body is read and dropped, so its connection is kept.
    if (this.next === undefined) this.content?.push(chunk);
  }

  onResponseEnd(): void {
    const next = this.next;
    if (next === undefined) {
      // The body is complete once the socket is free again, so a caller that reads it and sends
      // its next request at once reuses this connection.
      afterUndiciTurn(() => {
        this.finish();
        this.content?.end();
      });
      return;
    }
    this.next = undefined;
    if (next instanceof Error) {
      this.finish();
      this.settle(this.failure(next));
      return;
    }
    this.dispatch();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.next = undefined;
    this.finish();
    const failure = this.failure(error);
    if (this.content) this.content.fail(failure);
    else this.settle(failure);
  }

  // BodyFlow: the response body's hold on the socket.
  pause(): void {
    this.controller?.pause();
  }

  resume(): void {
    this.controller?.resume();
  }

  abort(reason: Error): void {
    this.controller?.abort(reason);
  }

  private dispatch(): void {
    const { origin, path, method, headers, body } = this.redirects?.hop ?? this.attempt;
    try {
      this.dispatcher.dispatch({ origin, path, method, headers, body }, this);
    } catch (error) {
      this.onResponseError(undefined, error as Error);
    }
  }

  private failure(error: unknown): unknown {
    const { attempt } = this;
    return attempt.aborted
      ? attempt.reason
      : toAxiosError(error, attempt.config, nativeRequestInfo(attempt));
  }

  /** undici is done with the request: the slot goes back, aborts no longer concern it. */
  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.attempt.offAbort(this.onAbort);
    this.release();
  }

  private settle(error: unknown, response?: UndiciPoolResponse): void {
    if (this.settled) return;
    this.settled = true;
    if (response) this.resolve(response);
    else this.reject(error);
  }
}
