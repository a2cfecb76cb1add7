import type { PoolBreakerTicket } from '@nest-pools/core';
import type { IRetryBackoffContext, RetryPolicy } from 'cockatiel';
import { DelegateBackoff, handleWhen, retry } from 'cockatiel';

import { type AttemptGate, settleTicket } from '../http-pool.breakers.js';
import { abortable } from '../transport/pooled-attempt.js';
import type { RetryReason } from './retry-rules.js';
import { parseRetryAfterMs, retryReasonForError, retryReasonForStatus } from './retry-rules.js';

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
    origin: string,
    method: string,
    status: number | undefined,
    seconds: number,
    error: unknown,
  ): void;
  /** A retry is scheduled after `delayMs`. */
  retrying(url: URL, reason: RetryReason, delayMs: number): void;
}

/** What the runner needs of one logical request, whichever API sent it. */
export interface RunnableAttempt {
  /** The request URL; only its origin, host and protocol are read here. */
  readonly url: URL;
  /** `url.origin`, read once per request. */
  readonly origin: string;
  /** Upper-case method. */
  readonly method: string;
  /** Aborts the request (caller cancel or total timeout); created on first read. */
  readonly signal: AbortSignal;
  /** True once the request was cancelled or timed out. */
  readonly aborted: boolean;
  /** The error the request fails with once {@link aborted}. */
  readonly reason: unknown;
}

/** How the runner reads the responses and failures of one request API (axios or native). */
export interface ResponseView<R> {
  /** The response's status code. */
  status(response: R): number;
  /** The response's `Retry-After` header. */
  retryAfter(response: R): string | string[] | undefined;
  /** The response a failure carries (a body cut off mid-stream), if any. */
  responseOf(error: unknown): R | undefined;
  /** The request URL behind a response or a failure, for the retry metric. */
  urlOf(response: R | undefined, error: unknown): URL | undefined;
  /** Frees a response that is retried instead of handed out (its socket, its slot). */
  discard(response: R): void;
}

type RetryContext = IRetryBackoffContext<unknown>;

/**
 * The attempts of one request, shared by the axios adapter and the native client: the circuit
 * breaker gate per attempt, the retry policy (cockatiel) with `Retry-After` and full-jitter
 * backoff, and a report of every attempt to the observer. One runner per client and request API;
 * it keeps no per-request state.
 */
export class AttemptRunner<R> {
  private readonly policy: RetryPolicy;

  constructor(
    private readonly settings: RetrySettings,
    private readonly view: ResponseView<R>,
    private readonly observer?: RequestObserver,
    private readonly gate?: AttemptGate,
  ) {
    this.policy = retry(
      handleWhen((error) => this.retryableError(error)).orWhenResult((value) =>
        this.retryableResult(value as R),
      ),
      {
        maxAttempts: settings.retries,
        backoff: new DelegateBackoff<RetryContext>((context) => this.retryDelay(context)),
      },
    );
    this.policy.onRetry((event) => {
      const response = 'value' in event ? (event.value as R) : undefined;
      const error = 'error' in event ? event.error : undefined;
      const reason =
        response !== undefined
          ? retryReasonForStatus(view.status(response))
          : retryReasonForError(error);
      // A retried response is never handed out; free its socket now.
      if (response !== undefined) view.discard(response);
      const url = view.urlOf(response, error);
      if (reason && url) observer?.retrying(url, reason, event.delay);
    });
  }

  /** True when retries are configured at all (the request must still be retryable itself). */
  get retries(): boolean {
    return this.settings.retries > 0;
  }

  /** Whether `retryNonIdempotent` is set for this client. */
  get retryNonIdempotent(): boolean {
    return this.settings.retryNonIdempotent;
  }

  /**
   * Runs the first attempt and, when `retryable` and the outcome asks for it, the retries. The
   * first attempt runs outside the policy: almost every request succeeds at once, and the
   * policy's bookkeeping is only worth paying once a retry is actually due. Its outcome is then
   * replayed as the policy's attempt 0, so cockatiel runs the whole retry loop.
   *
   * `settled`, when given, is called once with the request's final outcome (the response, or
   * `undefined` for a failure) just before the returned promise settles: a caller with work to do
   * at that moment needs no async frame of its own around the run.
   */
  run<A extends RunnableAttempt>(
    attempt: A,
    send: (attempt: A) => Promise<R>,
    retryable: boolean,
    settled?: (attempt: A, response: R | undefined) => void,
  ): Promise<R> {
    // One async frame for the common request: the retry decision is taken where the first
    // attempt's outcome arrives, not in a second frame awaiting it.
    return this.once(attempt, send, retryable && this.settings.retries > 0, settled);
  }

  /**
   * One attempt, through the breaker gate, reported to the observer; with `retryable`, an
   * outcome that asks for a retry continues in the policy. `settled` (only for the first
   * attempt) hears the final outcome.
   */
  private async once<A extends RunnableAttempt>(
    attempt: A,
    send: (attempt: A) => Promise<R>,
    retryable: boolean,
    settled?: (attempt: A, response: R | undefined) => void,
  ): Promise<R> {
    let ticket: PoolBreakerTicket | undefined;
    try {
      if (attempt.aborted) throw attempt.reason;
      // Throws PoolUnavailableError while the origin's circuit is open: nothing is sent.
      ticket = this.gate?.admit(attempt.origin);
    } catch (error) {
      settled?.(attempt, undefined);
      throw error;
    }
    const started = performance.now();
    let response: R;
    try {
      response = await send(attempt);
    } catch (error) {
      this.observe(attempt, started, undefined, error);
      if (ticket) settleTicket(ticket, undefined, error);
      // Cancelled or out of total time: final, whatever the error looks like (with
      // `clarifyTimeoutError` the total timeout's ETIMEDOUT reads as a retryable connect timeout).
      const retry = retryable && !attempt.aborted && this.retryableError(error);
      if (retry) return this.retry(attempt, send, { error }, settled);
      settled?.(attempt, undefined);
      throw retryable && attempt.aborted ? attempt.reason : error;
    }
    const status = this.view.status(response);
    this.observe(attempt, started, status);
    if (ticket) settleTicket(ticket, status);
    if (retryable) {
      if (attempt.aborted) {
        settled?.(attempt, undefined);
        throw attempt.reason;
      }
      if (this.retryableResult(response)) {
        return this.retry(attempt, send, { value: response }, settled);
      }
    }
    settled?.(attempt, response);
    return response;
  }

  /** The retries after a first outcome that asks for one, run by the policy (`first` replayed). */
  private retry<A extends RunnableAttempt>(
    attempt: A,
    send: (attempt: A) => Promise<R>,
    first: { value: R } | { error: unknown },
    settled?: (attempt: A, response: R | undefined) => void,
  ): Promise<R> {
    let replay: typeof first | undefined = first;
    const retried = abortable(
      this.policy.execute(() => {
        const outcome = replay;
        replay = undefined;
        if (!outcome) return this.once(attempt, send, false);
        if ('error' in outcome) throw outcome.error;
        return outcome.value;
      }, attempt.signal),
      attempt.signal,
    );
    if (!settled) return retried;
    return retried.then(
      (response) => {
        settled(attempt, response);
        return response;
      },
      (error: unknown) => {
        settled(attempt, undefined);
        throw error;
      },
    );
  }

  private observe(
    attempt: RunnableAttempt,
    started: number,
    status?: number,
    error?: unknown,
  ): void {
    this.observer?.attemptFinished(
      attempt.url,
      attempt.origin,
      attempt.method,
      status,
      (performance.now() - started) / 1000,
      error,
    );
  }

  private retryDelay(context: RetryContext): number {
    const result = context.result as { error?: unknown; value?: R };
    const response = result.value ?? this.view.responseOf(result.error);
    return Math.max(0, this.retryAfterOf(response) ?? this.settings.backoffMs(context.attempt));
  }

  private retryableError(error: unknown): boolean {
    return (
      retryReasonForError(error) !== undefined && !this.waitsTooLong(this.view.responseOf(error))
    );
  }

  private retryableResult(response: R): boolean {
    return (
      retryReasonForStatus(this.view.status(response)) !== undefined && !this.waitsTooLong(response)
    );
  }

  /** A wait longer than `retryAfterMaxMs` is not worth holding the caller for: give up. */
  private waitsTooLong(response: R | undefined): boolean {
    return (this.retryAfterOf(response) ?? 0) > this.settings.retryAfterMaxMs;
  }

  /** `Retry-After` of a response, in ms, when it sent one. */
  private retryAfterOf(response: R | undefined): number | undefined {
    return response === undefined ? undefined : parseRetryAfterMs(this.view.retryAfter(response));
  }
}
