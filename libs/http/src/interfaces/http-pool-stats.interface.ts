import type { PoolBreakerState } from '@nest-pools/core';

import type { HttpTransport } from '../config/index.js';

/** Sockets of one upstream origin. */
export interface HttpPoolOriginStats {
  /** `protocol//host:port`. */
  origin: string;
  /** Open sockets. */
  connected: number;
  /** Sockets serving a request. */
  active: number;
  /** Sockets waiting for the next request. */
  idle: number;
  /** Requests waiting for a socket of this origin. */
  pending: number;
  /** What the upstream advertised with `Keep-Alive: timeout=`, in ms (undici transport). */
  upstreamKeepAliveMs?: number;
}

/** The proxies of a client (undici transport), credentials masked. */
export interface HttpPoolProxySummary {
  /** Proxy of http:// URLs. */
  http?: string;
  /** Proxy of https:// URLs (CONNECT tunnels). */
  https?: string;
  /** Hosts that go direct (`NO_PROXY`). */
  noProxy?: string;
}

/**
 * Figures of one pooled HTTP client: the seeds' `limit`, `limit_per_host`, `connections`,
 * `acquired`, `acquired_per_host`, plus pending requests and the recent error ratio.
 */
export interface HttpPoolStats {
  /** Client name. */
  name: string;
  /** Transport in use. */
  transport: HttpTransport;
  /** Circuit state per upstream origin: `closed`, `open` (requests fail at once), `half-open`. */
  breakers: Record<string, PoolBreakerState>;
  /** Total socket limit (`poolLimit`). */
  limit: number;
  /** Socket limit per origin (`limitPerHost`). */
  limitPerHost: number;
  /** Open sockets across origins. */
  connections: number;
  /** Idle sockets across origins. */
  idle: number;
  /** Requests holding a socket. */
  acquired: number;
  /** Sockets serving a request, per origin. */
  acquiredPerHost: Record<string, number>;
  /** Requests waiting for a socket (total limit and per-origin queues). */
  pending: number;
  /** Attempts in the health window and the share of them that failed (network error or 5xx). */
  recent: { requests: number; failed: number; errorRatio: number };
  /**
   * Per-origin detail. Sockets of plain http:// requests through a proxy are the proxy's
   * (listed under its origin); CONNECT tunnels are listed under the upstream's origin.
   */
  origins: HttpPoolOriginStats[];
  /** The proxies requests go through (credentials masked); absent when every request goes direct. */
  proxy?: HttpPoolProxySummary;
  /** True once the client was closed. */
  closed: boolean;
}
