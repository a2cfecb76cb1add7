import type { Readable } from 'node:stream';

import type { AxiosInstance, InternalAxiosRequestConfig } from 'axios';
import { AxiosError } from 'axios';

import type { AttemptGate } from '../http-pool.breakers.js';
import {
  AttemptRunner,
  type RequestObserver,
  type ResponseView,
  type RetrySettings,
} from '../retry/attempt-runner.js';
import { isRequestRetryable } from '../retry/retry-rules.js';
import type { UndiciPoolResponse } from './http-pool-response.js';
import { type HttpPoolResponse, StreamPoolResponse } from './http-pool-response.js';
import { NativeAttempt } from './native-attempt.js';
import {
  type HttpPoolBody,
  type HttpPoolHeaders,
  type HttpPoolQuery,
  mergeHeaders,
  type NativeTarget,
  NativeTargets,
  requestMethod,
  requestTimeout,
  serializeBody,
  serializeQuery,
} from './native-request.js';

/** One request of {@link HttpPoolRequester}. */
export interface HttpPoolRequest {
  /** HTTP method. @default 'GET' */
  method?: string;
  /** A path under the client's `baseURL` (`/repos/x`), or an absolute `http(s)://` URL. */
  path: string;
  /** Query parameters, appended to `path`; arrays repeat their key. */
  query?: HttpPoolQuery;
  /** Headers; they replace the client's default headers of the same name (any case). */
  headers?: HttpPoolHeaders;
  /**
   * Body: a string, `Buffer` / `Uint8Array` or `Readable` as it is, a plain object or array as
   * JSON (with `content-type: application/json` unless set). A stream body is never retried.
   */
  body?: HttpPoolBody;
  /** Aborts the request (and, once the response is out, its body) with `ERR_CANCELED`. */
  signal?: AbortSignal;
  /**
   * Total time in ms until the response headers, retries and their waits included; then the
   * body is bounded by the client's read timeout and by `signal`. 0 = no limit.
   * @default the client's timeoutTotalMs (HTTP_TIMEOUT_TOTAL)
   */
  timeout?: number;
}

/** A request without its method and path, for the shortcut methods. */
export type HttpPoolRequestOptions = Omit<HttpPoolRequest, 'method' | 'path' | 'body'>;

/** How a requester reaches the network: undici directly, or the client's axios pipeline. */
export interface NativeRoute {
  send(request: HttpPoolRequest): Promise<HttpPoolResponse>;
}

/** What the undici route needs of its client. */
export interface UndiciRouteSettings {
  /** Client name, for error messages. */
  name: string;
  baseURL: string | undefined;
  /** Default total timeout (`timeoutTotalMs`). */
  timeoutTotalMs: number;
  maxRedirects: number;
  /** Client default headers (`headers` plus `User-Agent`). */
  headers: Readonly<Record<string, string>>;
  retry: RetrySettings;
  observer?: RequestObserver;
  gate?: AttemptGate;
  /** The undici transport's native send. */
  send: (attempt: NativeAttempt) => Promise<UndiciPoolResponse>;
}

/** How the attempt runner reads native responses and errors. */
const NATIVE_VIEW: ResponseView<UndiciPoolResponse> = {
  status: (response) => response.statusCode,
  retryAfter: (response) => response.headers['retry-after'],
  responseOf: () => undefined,
  urlOf: (response, error) => {
    if (response) return response.origin;
    const url = (error as { config?: { url?: unknown } } | undefined)?.config?.url;
    return typeof url === 'string' ? new URL(url) : undefined;
  },
  // dump() keeps the connection when the body is short; the slot comes back once it is in.
  discard: (response) => void response.dump().catch(() => undefined),
};

/**
 * The final outcome of a native request: the total timeout ends with the response headers, the
 * caller's signal keeps aborting the body until it is in; a failure unlinks both.
 */
function handOut(attempt: NativeAttempt, response: UndiciPoolResponse | undefined): void {
  if (response === undefined) {
    attempt.unlink();
    return;
  }
  attempt.endTimeout();
  if (attempt.linkedToSignal) response.whenFinished(() => attempt.unlink());
}

/**
 * The native route: a request becomes one {@link NativeAttempt} on the undici transport, run by
 * the client's retry rules and circuit breakers, reported to its metrics.
 */
export class UndiciRoute implements NativeRoute {
  private readonly runner: AttemptRunner<UndiciPoolResponse>;
  private readonly targets: NativeTargets;
  private readonly defaults: string[];

  constructor(private readonly settings: UndiciRouteSettings) {
    this.runner = new AttemptRunner(settings.retry, NATIVE_VIEW, settings.observer, settings.gate);
    this.targets = new NativeTargets(settings.name, settings.baseURL);
    this.defaults = Object.entries(settings.headers).flat();
  }

  send(request: HttpPoolRequest): Promise<HttpPoolResponse> {
    try {
      return this.start(request);
    } catch (error) {
      // Bad input fails the returned promise, as from an async function.
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Builds the attempt of `request` and runs it; throws (synchronously) for bad input. */
  private start(request: HttpPoolRequest): Promise<HttpPoolResponse> {
    const name = this.settings.name;
    const method = requestMethod(name, request.method);
    const timeout = requestTimeout(name, request.timeout, this.settings.timeoutTotalMs);
    const { origin, originText, path } = this.resolve(request);
    const body = serializeBody(name, request.body);
    const headers = mergeHeaders(this.defaults, request.headers, body.json);
    // What errors carry as `config`, as on the axios path; also the cancellation inputs.
    const config = {
      method,
      url: originText + path,
      timeout,
      signal: request.signal,
      headers: request.headers ?? {},
    } as unknown as InternalAxiosRequestConfig;
    const attempt = new NativeAttempt(
      config,
      origin,
      originText,
      method,
      path,
      headers,
      body.body,
      this.settings.maxRedirects,
    );
    const retryable = isRequestRetryable(
      { method, headers: request.headers, bodyIsStream: body.stream },
      this.runner.retryNonIdempotent,
    );
    attempt.link(request.signal, timeout);
    // No async frame here: the runner calls handOut with the final outcome.
    return this.runner.run(attempt, this.settings.send, retryable, handOut);
  }

  private resolve(request: HttpPoolRequest): NativeTarget {
    try {
      return this.targets.resolve(request.path, request.query);
    } catch (error) {
      if (error instanceof AxiosError) throw error;
      throw AxiosError.from(error, AxiosError.ERR_INVALID_URL);
    }
  }
}

/**
 * The route of a client on the `http` transport: the request goes through the client's own axios
 * instance (same retry, breaker, metrics and errors) with a streamed response.
 */
export class AxiosRoute implements NativeRoute {
  constructor(private readonly axios: AxiosInstance) {}

  async send(request: HttpPoolRequest): Promise<HttpPoolResponse> {
    const response = await this.axios.request<Readable>({
      method: request.method ?? 'GET',
      url: request.path,
      params: request.query,
      // The same query string as on the undici route: arrays repeat their key (`tag=a&tag=b`).
      paramsSerializer: { serialize: serializeQuery },
      headers: request.headers as Record<string, string> | undefined,
      data: request.body,
      signal: request.signal,
      ...(request.timeout === undefined ? {} : { timeout: request.timeout }),
      responseType: 'stream',
      validateStatus: () => true,
    });
    return new StreamPoolResponse(response);
  }
}

/**
 * The native request API of a pooled client: undici's dispatch API behind the client's sockets,
 * limits, retry rules, circuit breakers, metrics and shutdown — without axios's per-request work.
 * Responses are handed out whatever their status; read or dump every body. Inject it with
 * `InjectHttpPoolRequester(name)`; `HttpService` (`InjectHttpPool(name)`) stays the default API.
 *
 * @example
 * ```ts
 * constructor(@InjectHttpPoolRequester('github') private readonly github: HttpPoolRequester) {}
 *
 * const res = await this.github.get('/repos/nestjs/nest', { query: { per_page: 10 } });
 * const repo = await res.json<{ stargazers_count: number }>();
 * ```
 */
export class HttpPoolRequester {
  /** @param route how requests reach the network (built by the client). */
  constructor(private readonly route: NativeRoute) {}

  /** Sends `request`; resolves with the response headers, the body still to read. */
  request(request: HttpPoolRequest): Promise<HttpPoolResponse> {
    return this.route.send(request);
  }

  /** `GET path`. */
  get(path: string, options?: HttpPoolRequestOptions): Promise<HttpPoolResponse> {
    return this.route.send({ ...options, method: 'GET', path });
  }

  /** `HEAD path`. */
  head(path: string, options?: HttpPoolRequestOptions): Promise<HttpPoolResponse> {
    return this.route.send({ ...options, method: 'HEAD', path });
  }

  /** `DELETE path`. */
  delete(path: string, options?: HttpPoolRequestOptions): Promise<HttpPoolResponse> {
    return this.route.send({ ...options, method: 'DELETE', path });
  }

  /** `POST path` with `body`. */
  post(
    path: string,
    body?: HttpPoolBody,
    options?: HttpPoolRequestOptions,
  ): Promise<HttpPoolResponse> {
    return this.route.send({ ...options, method: 'POST', path, body });
  }

  /** `PUT path` with `body`. */
  put(
    path: string,
    body?: HttpPoolBody,
    options?: HttpPoolRequestOptions,
  ): Promise<HttpPoolResponse> {
    return this.route.send({ ...options, method: 'PUT', path, body });
  }

  /** `PATCH path` with `body`. */
  patch(
    path: string,
    body?: HttpPoolBody,
    options?: HttpPoolRequestOptions,
  ): Promise<HttpPoolResponse> {
    return this.route.send({ ...options, method: 'PATCH', path, body });
  }
}
