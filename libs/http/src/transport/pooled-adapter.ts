import { Readable, Stream } from 'node:stream';

import type { AxiosAdapter, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { AxiosError } from 'axios';
import buildFullPath from 'axios/unsafe/core/buildFullPath.js';
import buildURL from 'axios/unsafe/helpers/buildURL.js';
import type { IRetryBackoffContext, RetryPolicy } from 'cockatiel';
import { DelegateBackoff, handleWhen, retry } from 'cockatiel';

import type { RetryReason } from '../retry/retry-rules.js';
import {
  isRequestRetryable,
  parseRetryAfterMs,
  retryReasonForError,
  retryReasonForStatus,
} from '../retry/retry-rules.js';
import { settle } from './axios-errors.js';
import { abortable, type CancelHook, linkCancellation, PooledAttempt } from './pooled-attempt.js';
import type { SendAttempt, TransportAttempt } from './transport.interface.js';

export type { CancelHook } from './pooled-attempt.js';
import { type AttemptGate, settleTicket } from '../http-pool.breakers.js';

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
  private readonly policy: RetryPolicy;
  /** The hook {@link withCancelHook} offers to the request that reaches the adapter next. */
  private offeredHook: CancelHook | undefined;

  constructor(
    private readonly send: SendAttempt,
    private readonly settings: RetrySettings,
    private readonly observer?: RequestObserver,
    private readonly gate?: AttemptGate,
    private readonly checkOptions?: (config: InternalAxiosRequestConfig, url: URL) => void,
  ) {
    this.policy = retry(
      handleWhen((error) => this.retryableError(error)).orWhenResult((value) =>
        this.retryableResult(value as AxiosResponse),
      ),
      {
        maxAttempts: settings.retries,
        backoff: new DelegateBackoff<RetryContext>((context) => this.retryDelay(context)),
      },
    );
    this.policy.onRetry((event) => {
      const response = 'value' in event ? (event.value as AxiosResponse) : undefined;
      const error = 'error' in event ? event.error : undefined;
      const reason = response ? retryReasonForStatus(response.status) : retryReasonForError(error);
      // A retried streamed response is never handed out; free its socket now.
      if (response?.data instanceof Readable) response.data.destroy();
      const config = response?.config ?? (error as { config?: InternalAxiosRequestConfig }).config;
      if (reason && config) observer?.retrying(requestUrl(config), reason, event.delay);
    });
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
  private async attempts(attempt: PooledAttempt): Promise<AxiosResponse> {
    const { config, method } = attempt;
    const retryable =
      this.settings.retries > 0 &&
      isRequestRetryable(
        {
          method,
          headers: config.headers,
          // A stream, `form-data` bodies included, is consumed by the first attempt.
          bodyIsStream: config.data instanceof Stream,
        },
        this.settings.retryNonIdempotent,
      );
    if (!retryable) return this.once(attempt);
    // The first attempt runs outside the policy: almost every request succeeds at once, and the
    // policy's bookkeeping is only worth paying once a retry is actually due. Its outcome is then
    // replayed as the policy's attempt 0, so cockatiel runs the whole retry loop.
    let first: { value: AxiosResponse } | { error: unknown };
    try {
      first = { value: await this.once(attempt) };
    } catch (error) {
      first = { error };
    }
    // Cancelled or out of total time: final, whatever the error looks like (with
    // `clarifyTimeoutError` the total timeout's ETIMEDOUT reads as a retryable connect timeout).
    if (attempt.aborted) throw attempt.reason;
    if ('value' in first ? !this.retryableResult(first.value) : !this.retryableError(first.error)) {
      if ('error' in first) throw first.error;
      return first.value;
    }
    let replay: typeof first | undefined = first;
    return abortable(
      this.policy.execute(() => {
        const outcome = replay;
        replay = undefined;
        if (!outcome) return this.once(attempt);
        if ('error' in outcome) throw outcome.error;
        return outcome.value;
      }, attempt.signal),
      attempt.signal,
    );
  }

  /** One attempt on the transport, reported to the observer. */
  private async once(attempt: TransportAttempt): Promise<AxiosResponse> {
    if (attempt.aborted) throw attempt.reason;
    // Throws PoolUnavailableError while the origin's circuit is open: nothing is sent.
    const ticket = this.gate?.admit(attempt.url);
    const started = performance.now();
    try {
      const response = await this.send(attempt);
      this.observe(attempt, started, response.status);
      if (ticket) settleTicket(ticket, response.status);
      return response;
    } catch (error) {
      this.observe(attempt, started, undefined, error);
      if (ticket) settleTicket(ticket, undefined, error);
      throw error;
    }
  }

  private observe(
    attempt: TransportAttempt,
    started: number,
    status?: number,
    error?: unknown,
  ): void {
    this.observer?.attemptFinished(
      attempt.url,
      attempt.method,
      status,
      (performance.now() - started) / 1000,
      error,
    );
  }

  private retryDelay(context: RetryContext): number {
    const result = context.result as { error?: unknown; value?: AxiosResponse };
    const response =
      result.value ?? (result.error as { response?: AxiosResponse } | undefined)?.response;
    return Math.max(0, retryAfterOf(response) ?? this.settings.backoffMs(context.attempt));
  }

  private retryableError(error: unknown): boolean {
    return (
      retryReasonForError(error) !== undefined &&
      !this.waitsTooLong((error as { response?: AxiosResponse }).response)
    );
  }

  private retryableResult(response: AxiosResponse): boolean {
    return retryReasonForStatus(response.status) !== undefined && !this.waitsTooLong(response);
  }

  /** A wait longer than `retryAfterMaxMs` is not worth holding the caller for: give up. */
  private waitsTooLong(response: AxiosResponse | undefined): boolean {
    return (retryAfterOf(response) ?? 0) > this.settings.retryAfterMaxMs;
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

/** `Retry-After` of a response, in ms, when it sent one. */
function retryAfterOf(response: AxiosResponse | undefined): number | undefined {
  return parseRetryAfterMs(response?.headers?.['retry-after'] as string | undefined);
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
