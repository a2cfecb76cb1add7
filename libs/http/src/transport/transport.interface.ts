import type { AxiosResponse, InternalAxiosRequestConfig } from 'axios';

import type {
  HttpPoolOriginStats,
  HttpPoolProxySummary,
} from '../interfaces/http-pool-stats.interface.js';

/** One attempt of a logical request, as handed to a transport. */
export interface TransportAttempt {
  /** The axios config after interceptors and `transformRequest` (`data` is final). */
  config: InternalAxiosRequestConfig;
  /** Absolute request URL (base URL, path and params already combined). */
  url: URL;
  /** `url.origin` (`protocol://host[:port]`), read once per request. */
  readonly origin: string;
  /** Upper-case method. */
  method: string;
  /**
   * Aborts this attempt: caller cancel or the total timeout; its `reason` is the error to throw.
   * Created on first read: transports on the hot path use {@link aborted} / {@link onAbort}.
   */
  readonly signal: AbortSignal;
  /** True once the request was cancelled or timed out. */
  readonly aborted: boolean;
  /** The error the request fails with once {@link aborted}. */
  readonly reason: unknown;
  /**
   * Sets the one listener called (once) when the request aborts, replacing the previous one;
   * `undefined` removes it. Attempts run one at a time, so one slot is enough.
   */
  onAbort(listener: ((reason: unknown) => void) | undefined): void;
}

/**
 * Sends one attempt and resolves with the response whatever its status (the caller applies
 * `validateStatus` after the retry rules), or rejects with an `AxiosError` whose `code` names the
 * failure.
 */
export type SendAttempt = (attempt: TransportAttempt) => Promise<AxiosResponse>;

/** A pooled transport: one attempt at a time, socket statistics, orderly close. */
export interface PooledTransport {
  readonly kind: 'undici' | 'http';
  readonly send: SendAttempt;
  /** Requests holding a slot of the total limit. */
  acquired(): number;
  /** Requests waiting for a slot of the total limit. */
  pending(): number;
  /** Requests waiting for a slot of the total limit, per origin. */
  pendingByOrigin(): Map<string, number>;
  /** Per-origin socket statistics. */
  origins(): HttpPoolOriginStats[];
  /** The proxies requests go through (credentials masked); undefined = direct. */
  proxySummary?(): HttpPoolProxySummary | undefined;
  /**
   * Calls `closed` each time one of the transport's connections closes, with its origin
   * (`protocol://host:port`) and how long it was open, in seconds.
   */
  watchConnections(closed: (origin: string, seconds: number) => void): void;
  /**
   * Stops accepting requests, lets in-flight ones finish for up to `timeoutMs`, then destroys
   * every socket. Resolves once nothing is left open.
   */
  close(timeoutMs: number): Promise<void>;
}
