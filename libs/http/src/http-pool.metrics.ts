import { HistogramSeries, type PoolMetrics } from '@nest-pools/core';

import type { HttpPoolOriginStats } from './interfaces/http-pool-stats.interface.js';
import type { RequestObserver } from './retry/attempt-runner.js';
import type { RetryReason } from './retry/retry-rules.js';
import { tlsFailureHint } from './transport/tls-errors.js';

/** Bounded `error_type` values of `pool_errors_total{pool_system="http"}`. */
const KNOWN_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_CANCELED',
  'ERR_NETWORK',
  'ERR_BAD_RESPONSE',
  'ERR_BAD_REQUEST',
  'ERR_FR_TOO_MANY_REDIRECTS',
  'ERR_INVALID_URL',
  'ERR_POOL_CLOSED',
  'ERR_PROXY_AUTH',
  'ERR_PROXY_TUNNEL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * The `error_type` label of a failed attempt: its code when known, `tls` for a certificate or
 * TLS handshake failure (untrusted or expired certificate, wrong host name, client certificate
 * refused), else `other`.
 */
export function httpErrorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'other';
  if (KNOWN_ERROR_CODES.has(code)) return code;
  return tlsFailureHint(code) === undefined ? 'other' : 'tls';
}

/** `server_port` label: the explicit port, else the scheme's default. */
function portOf(url: { port: string; protocol: string }): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/**
 * Writes one client's requests and sockets to the shared {@link PoolMetrics} families:
 * `http_client_request_duration_seconds` per attempt (method, status code, origin, and
 * `error_type` as OpenTelemetry sets `error.type`: the failure's code when no response arrived,
 * the status code from 400 on, empty otherwise),
 * `http_client_retries_total` by reason, `pool_errors_total` by error code, and the
 * `http_client_open_connections` / `http_client_pending_requests` gauges from socket snapshots.
 * Labels carry host names and ports only, never paths, query strings or credentials.
 */
export class HttpPoolMetricsRecorder implements RequestObserver {
  private readonly seenOrigins = new Map<string, { server_address: string; server_port: string }>();
  /**
   * Label-bound histogram children by origin, method, then status code (an answer) or error
   * type (a failure): building and checking a label object on every attempt costs more than the
   * observation itself, and keys that are the same strings and numbers each time hash once.
   * Bounded by the origins a client talks to, the methods, the status codes and the known error
   * codes.
   */
  private readonly durations = new Map<
    string,
    Map<string, Map<number | string, HistogramSeries>>
  >();

  constructor(
    private readonly metrics: PoolMetrics,
    private readonly poolName: string,
    private readonly onOutcome: (success: boolean) => void,
  ) {}

  attemptFinished(
    url: URL,
    origin: string,
    method: string,
    status: number | undefined,
    seconds: number,
    error: unknown,
  ): void {
    const errorType = error === undefined ? undefined : httpErrorType(error);
    let byMethod = this.durations.get(origin);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.durations.set(origin, byMethod);
    }
    let byOutcome = byMethod.get(method);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      byMethod.set(method, byOutcome);
    }
    // With no error type the status decides every label; a failure is keyed by its type.
    const key = errorType ?? status ?? '';
    let child = byOutcome.get(key);
    if (!child) {
      const statusCode = status === undefined ? '' : String(status);
      child = new HistogramSeries(this.metrics.httpRequestDuration, {
        pool_name: this.poolName,
        http_request_method: method,
        http_response_status_code: statusCode,
        error_type: errorType ?? (status !== undefined && status >= 400 ? statusCode : ''),
        server_address: url.hostname,
        server_port: portOf(url),
      });
      byOutcome.set(key, child);
    }
    child.observe(seconds);
    if (errorType === undefined) {
      this.onOutcome(status === undefined || status < 500);
      return;
    }
    this.metrics.errors.inc({
      pool_name: this.poolName,
      pool_system: 'http',
      error_type: errorType,
    });
    // Cancels are the caller's choice, not the upstream's health.
    if (errorType !== 'ERR_CANCELED') this.onOutcome(false);
  }

  retrying(url: URL, reason: RetryReason): void {
    this.metrics.httpRetries.inc({
      pool_name: this.poolName,
      server_address: url.hostname,
      reason,
    });
  }

  /** One connection to `origin` closed after `seconds` (`http_client_connection_duration_seconds`). */
  connectionClosed(origin: string, seconds: number): void {
    this.metrics.httpConnectionDuration.observe(
      { pool_name: this.poolName, ...this.labelsOf(origin) },
      seconds,
    );
  }

  /** Sets the socket gauges from a snapshot; origins gone since the last one drop to 0. */
  refreshSockets(
    origins: readonly HttpPoolOriginStats[],
    queuedByOrigin: ReadonlyMap<string, number>,
  ): void {
    const current = new Set<string>();
    for (const o of origins) {
      current.add(o.origin);
      const labels = this.labelsOf(o.origin);
      this.setSockets(labels, o.active, o.idle, o.pending + (queuedByOrigin.get(o.origin) ?? 0));
    }
    for (const [origin, count] of queuedByOrigin) {
      if (current.has(origin)) continue;
      current.add(origin);
      this.setSockets(this.labelsOf(origin), 0, 0, count);
    }
    for (const [origin, labels] of this.seenOrigins) {
      if (!current.has(origin)) this.setSockets(labels, 0, 0, 0);
    }
  }

  private setSockets(
    labels: { server_address: string; server_port: string },
    active: number,
    idle: number,
    pending: number,
  ): void {
    const base = { pool_name: this.poolName, ...labels };
    this.metrics.httpOpenConnections.set({ ...base, http_connection_state: 'active' }, active);
    this.metrics.httpOpenConnections.set({ ...base, http_connection_state: 'idle' }, idle);
    this.metrics.httpPendingRequests.set(base, pending);
  }

  private labelsOf(origin: string): { server_address: string; server_port: string } {
    let labels = this.seenOrigins.get(origin);
    if (!labels) {
      const url = new URL(origin);
      labels = { server_address: url.hostname, server_port: portOf(url) };
      this.seenOrigins.set(origin, labels);
    }
    return labels;
  }
}
