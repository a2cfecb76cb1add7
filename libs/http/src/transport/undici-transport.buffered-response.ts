import { Readable } from 'node:stream';

import type { AxiosResponse } from 'axios';
import type { Dispatcher } from 'undici';

import { toAxiosError } from './axios-errors.js';
import type { TransportAttempt } from './transport.interface.js';
import { RedirectFollower } from './undici-redirects.js';
import type { UndiciExchange } from './undici-transport.request.js';
import { maxRedirectsOf, undiciRequestOptions } from './undici-transport.request.js';
import {
  bufferedData,
  contentLengthError,
  declaresTooLong,
  pipeDecoder,
  readBody,
  startResponse,
} from './undici-transport.response.js';

/**
 * One attempt whose body is handed out whole (every `responseType` but `stream`), on a dispatch
 * handler of its own: chunks are collected and joined once, with no body stream in between
 * unless the body has to be decoded; redirects are followed by the handler ({@link
 * RedirectFollower}), so `dispatcher` is one without undici's redirect interceptor.
 */
export function sendBuffered(
  dispatcher: Dispatcher,
  exchange: UndiciExchange,
): Promise<AxiosResponse> {
  const { attempt } = exchange;
  return new Promise<AxiosResponse>((resolve, reject) => {
    const handler = new BufferedAttempt(dispatcher, exchange, resolve, reject);
    if (attempt.aborted) {
      handler.fail(attempt.reason);
      return;
    }
    handler.start();
  });
}

/**
 * Runs `fn` one event-loop turn after undici's own post-response `setImmediate`, which is when
 * undici marks the socket free (HTTP/1.1 without pipelining). Whoever sends the next request
 * from `fn` on finds the socket free instead of opening a second connection.
 */
export function afterUndiciTurn(fn: () => void): void {
  // Scheduled from a tick, so after undici queued the Immediate that marks the socket free.
  process.nextTick(setImmediate, fn);
}

/**
 * undici dispatch handler of one buffered attempt: builds the axios response at the headers,
 * collects the body (through a decoder when it is compressed), enforces `maxContentLength`, and
 * settles once. Aborts come from the attempt's signal.
 */
class BufferedAttempt implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private redirects: RedirectFollower<Dispatcher.DispatchOptions['body']> | undefined;
  /** While a 3xx body drains: true (send the redirect's hop at its end), or the error to fail with. */
  private next: true | Error | undefined;
  private context: unknown;
  private response: AxiosResponse | undefined;
  private chunks: Buffer[] = [];
  private total = 0;
  private decoding: Readable | undefined;
  private settled = false;
  private readonly attempt: TransportAttempt;
  private readonly maxContentLength: number;
  private readonly config: TransportAttempt['config'];
  private readonly onAbort = (reason: unknown) => {
    this.fail(reason);
    this.controller?.abort(reason as Error);
  };

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly exchange: UndiciExchange,
    private readonly resolve: (response: AxiosResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.attempt = exchange.attempt;
    this.config = exchange.attempt.config;
    this.maxContentLength = exchange.attempt.config.maxContentLength ?? -1;
    if (!this.attempt.aborted) this.attempt.onAbort(this.onAbort);
  }

  /** Sends the first hop; the request options are built here, so bad data fails the attempt. */
  start(): void {
    try {
      const { origin, path, method, headers, body } = undiciRequestOptions(this.exchange);
      this.redirects = new RedirectFollower(
        { origin: String(origin), path, method, headers: headers as string[], body },
        maxRedirectsOf(this.exchange.attempt.config),
      );
    } catch (error) {
      this.fail(error);
      return;
    }
    this.dispatch();
  }

  private dispatch(): void {
    const hop = this.redirects?.hop;
    if (hop === undefined) return;
    const { origin, path, method, headers, body } = hop;
    try {
      this.dispatcher.dispatch({ origin, path, method, headers, body }, this);
    } catch (error) {
      this.fail(error);
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.controller = controller;
    this.context = context;
    if (this.settled) controller.abort(this.attempt.reason as Error);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (this.settled || statusCode < 200) return;
    const redirects = this.redirects;
    const follow = redirects?.follow(statusCode, headers['location']) ?? false;
    if (follow !== false) {
      this.next = follow;
      return;
    }
    const { response, decode } = startResponse(
      this.exchange,
      statusCode,
      statusMessage,
      headers,
      redirects?.redirected ? { history: [new URL(redirects.url)] } : this.context,
    );
    this.response = response;
    if (decode) {
      const source = new Readable({ read: () => this.controller?.resume() });
      this.decoding = source;
      const request = this.exchange.request;
      readBody(pipeDecoder(source, decode), this.config, this.maxContentLength, request).then(
        (data) => this.finish(data),
        (error: unknown) => {
          this.fail(error);
          this.controller?.abort(error as Error);
        },
      );
      return;
    }
    if (declaresTooLong(headers, this.maxContentLength)) this.tooLong(controller);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // A redirect's own body is read and dropped, so its connection is kept.
    if (this.settled || this.next !== undefined) return;
    if (this.decoding) {
      if (!this.decoding.push(chunk)) controller.pause();
      return;
    }
    this.total += chunk.length;
    if (this.maxContentLength > -1 && this.total > this.maxContentLength) {
      this.tooLong(controller);
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    const next = this.next;
    if (next !== undefined) {
      this.next = undefined;
      if (next instanceof Error) this.fail(next);
      else this.dispatch();
      return;
    }
    if (this.decoding) {
      this.decoding.push(null);
      return;
    }
    this.finish(bufferedData(this.chunks, this.total, this.config));
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.next = undefined;
    this.decoding?.destroy(error);
    this.fail(error);
  }

  /** Rejects the attempt (once) with the abort reason or the failure as an `AxiosError`. */
  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.attempt.onAbort(undefined);
    this.exchange.release();
    this.reject(
      this.attempt.aborted
        ? this.attempt.reason
        : toAxiosError(error, this.config, this.exchange.request),
    );
  }

  /** Fails the attempt and cuts the response: its body is over `maxContentLength`. */
  private tooLong(controller: Dispatcher.DispatchController): void {
    const error = contentLengthError(this.maxContentLength, this.config, this.exchange.request);
    this.fail(error);
    controller.abort(error);
  }

  private finish(data: unknown): void {
    const response = this.response;
    if (this.settled || !response) return;
    this.settled = true;
    this.attempt.onAbort(undefined);
    response.data = data;
    afterUndiciTurn(() => {
      this.exchange.release();
      this.resolve(response);
    });
  }
}
