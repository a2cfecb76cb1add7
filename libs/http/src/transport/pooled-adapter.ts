import { Readable, Stream } from 'node:stream';

import type { AxiosAdapter, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { AxiosError } from 'axios';
import buildFullPath from 'axios/unsafe/core/buildFullPath.js';
import buildURL from 'axios/unsafe/helpers/buildURL.js';

import type { AttemptGate } from '../http-pool.breakers.js';
import {
  AttemptRunner,
  type RequestObserver,
  type ResponseView,
  type RetrySettings,
} from '../retry/attempt-runner.js';
import { isRequestRetryable } from '../retry/retry-rules.js';
import { settle } from './axios-errors.js';
import { type CancelHook, linkCancellation, PooledAttempt } from './pooled-attempt.js';
import type { SendAttempt } from './transport.interface.js';

export type { RequestObserver, RetrySettings } from '../retry/attempt-runner.js';
export type { CancelHook } from './pooled-attempt.js';

/** How the attempt runner reads axios responses and errors. */
const AXIOS_VIEW: ResponseView<AxiosResponse> = {
  status: (response) => response.status,
  retryAfter: (response) => response.headers?.['retry-after'] as string | undefined,
  responseOf: (error) => (error as { response?: AxiosResponse } | undefined)?.response,
  urlOf: (response, error) => {
    const config = response?.config ?? (error as { config?: InternalAxiosRequestConfig }).config;
    return config ? requestUrl(config) : undefined;
  },
  // A retried streamed response is never handed out; free its socket now.
  discard: (response) => {
    if (response.data instanceof Readable) response.data.destroy();
  },
};

/** Leads from an adapter function made by {@link PooledAdapter} back to its instance. */
const POOLED_ADAPTER = Symbol('nest-pools:PooledAdapter');

/**
 * The axios adapter of a pooled client around a transport: it owns what spans all attempts of one
 * request — the check of its axios options, the total `timeout`, `signal` / `cancelToken` cancellation, the retry policy
 * (cockatiel) with `Retry-After` and full-jitter backoff, `validateStatus` — and reports every
 * attempt to the observer. axios calls {@link adapter}; the instance also holds the
 * {@link CancelHook} on offer, so two clients never see each other's hooks.
 */
export class PooledAdapter {
  /** The function to pass as axios's `adapter`; {@link pooledAdapterOf} leads back here. */
  readonly adapter: AxiosAdapter;
  private readonly runner: AttemptRunner<AxiosResponse>;
  /** The hook {@link withCancelHook} offers to the request that reaches the adapter next. */
  private offeredHook: CancelHook | undefined;

  constructor(
    private readonly send: SendAttempt,
    settings: RetrySettings,
    observer?: RequestObserver,
    gate?: AttemptGate,
    private readonly checkOptions?: (config: InternalAxiosRequestConfig, url: URL) => void,
  ) {
    this.runner = new AttemptRunner(settings, AXIOS_VIEW, observer, gate);
    const adapter: AxiosAdapter = (config) => this.request(config);
    Object.defineProperty(adapter, POOLED_ADAPTER, { value: this });
    this.adapter = adapter;
  }

  /**
   * Calls `start` (which must reach this adapter synchronously) with `hook` on offer; the request
   * that starts during the call takes it.
   */
  withCancelHook<T>(hook: CancelHook, start: () => T): T {
    this.offeredHook = hook;
    try {
      return start();
    } finally {
      this.offeredHook = undefined;
    }
  }

  private async request(config: InternalAxiosRequestConfig): Promise<AxiosResponse> {
    // Taken before anything else: the hook belongs to the request that reaches this line first.
    const hook = this.offeredHook;
    this.offeredHook = undefined;
    const url = requestUrl(config);
    // Before a slot, a socket or the retry policy: a refused option fails once, at once.
    this.checkOptions?.(config, url);
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
      const response = await this.attempts(attempt);
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
  }

  /** The first attempt and, when the request may be retried and needs it, the retries. */
  private attempts(attempt: PooledAttempt): Promise<AxiosResponse> {
    const { config, method } = attempt;
    const retryable =
      this.runner.retries &&
      isRequestRetryable(
        {
          method,
          headers: config.headers,
          // A stream, `form-data` bodies included, is consumed by the first attempt.
          bodyIsStream: config.data instanceof Stream,
        },
        this.runner.retryNonIdempotent,
      );
    return this.runner.run(attempt, this.send, retryable);
  }
}

/** Builds the axios adapter of a pooled client around a transport (see {@link PooledAdapter}). */
export function createPooledAdapter(
  send: SendAttempt,
  settings: RetrySettings,
  observer?: RequestObserver,
  gate?: AttemptGate,
  checkOptions?: (config: InternalAxiosRequestConfig, url: URL) => void,
): AxiosAdapter {
  return new PooledAdapter(send, settings, observer, gate, checkOptions).adapter;
}

/** The {@link PooledAdapter} an adapter function belongs to; undefined for any other adapter. */
export function pooledAdapterOf(adapter: unknown): PooledAdapter | undefined {
  if (typeof adapter !== 'function') return undefined;
  const owner = (adapter as { [POOLED_ADAPTER]?: unknown })[POOLED_ADAPTER];
  return owner instanceof PooledAdapter ? owner : undefined;
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
