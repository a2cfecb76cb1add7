import { waitAtMost } from '@nest-pools/core';
import type { AxiosResponse } from 'axios';
import { AxiosError } from 'axios';
import type { Dispatcher, Pool } from 'undici';
import { Agent, interceptors } from 'undici';

import type {
  HttpPoolOriginStats,
  HttpPoolProxySummary,
} from '../interfaces/http-pool-stats.interface.js';
import { parseKeepAliveHeader } from './keep-alive.js';
import type { ReleaseSlot } from './pool-limiter.js';
import { PoolLimiter } from './pool-limiter.js';
import type { PooledTransport, SendAttempt, TransportAttempt } from './transport.interface.js';
import { UndiciProxies, type UndiciProxyOptions } from './undici-proxy.js';
import { sendBuffered } from './undici-transport.buffered-response.js';
import type { UndiciExchange } from './undici-transport.request.js';
import { requestInfo, undiciHeaders } from './undici-transport.request.js';
import { sendStreamed } from './undici-transport.stream-response.js';

/** Settings of the undici transport (a subset of the client's resolved options). */
export interface UndiciTransportOptions {
  /** Sockets in use across all origins. */
  poolLimit: number;
  /** Sockets per origin (`protocol://host:port`). */
  limitPerHost: number;
  /** TCP + TLS connect timeout; 0 disables it. */
  connectTimeoutMs: number;
  /** Longest wait for response headers, and longest silence while reading the body; 0 disables. */
  readTimeoutMs: number;
  /** Idle time after which a pooled socket is closed; also caps an upstream's longer hint. */
  keepAliveTimeoutMs: number;
  /** DNS answers cached for this long (undici's `interceptors.dns`); 0 disables the cache. */
  dnsCacheTtlMs: number;
}

/** Settings of the undici transport, proxies included (see {@link UndiciProxies}). */
export type UndiciTransportSettings = UndiciTransportOptions & UndiciProxyOptions;

/**
 * Margin kept below an upstream's advertised `Keep-Alive: timeout=`: the upstream closes at
 * exactly its timeout, and a request sent in the last moment races the FIN. undici's own default
 * (2 s) would make a 1–2 s upstream timeout disable reuse entirely.
 */
export const KEEP_ALIVE_THRESHOLD_MS = 500;

/** What undici's `Agent#stats` holds per origin (a `PoolStats`). */
/** `Agent#stats` of an origin: a `Pool`'s, or a single `Client`'s when `connections` is 1. */
type UndiciOriginStats =
  | { connected: number; free: number; pending: number; queued: number }
  | { connected: boolean; pending: number; running: number; size: number };

/** One origin's socket figures, whichever dispatcher undici chose for it. */
function originFigures(s: UndiciOriginStats): { connected: number; idle: number; pending: number } {
  if (typeof s.connected === 'boolean') {
    const c = s as { connected: boolean; pending: number; running: number };
    const connected = c.connected ? 1 : 0;
    return { connected, idle: connected && c.running === 0 ? 1 : 0, pending: c.pending };
  }
  const p = s;
  return { connected: p.connected, idle: p.free, pending: p.pending + p.queued };
}

/**
 * Pooled transport on an undici {@link Agent}: `limitPerHost` connections per origin, a total
 * cap of `poolLimit` requests in flight ({@link PoolLimiter}), keep-alive that follows the
 * upstream's `Keep-Alive: timeout=` hint, DNS cache, redirects and decompression as undici
 * interceptors. It sends one attempt of an axios request and builds an axios response from it.
 */
export class UndiciTransport implements PooledTransport {
  readonly kind = 'undici' as const;
  readonly agent: Agent;
  private readonly limiter: PoolLimiter;
  private readonly dispatcher: Dispatcher;
  private readonly proxies: UndiciProxies;
  private readonly upstreamKeepAlive = new Map<string, number>();
  private readonly lastKeepAliveHeader = new Map<string, string>();
  private closing: Promise<void> | undefined;

  constructor(options: UndiciTransportSettings) {
    this.limiter = new PoolLimiter(options.poolLimit);
    const poolOptions: Pool.Options = {
      connections: options.limitPerHost,
      pipelining: 1,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      keepAliveMaxTimeout: options.keepAliveTimeoutMs,
      keepAliveTimeoutThreshold: KEEP_ALIVE_THRESHOLD_MS,
      connectTimeout: options.connectTimeoutMs,
      headersTimeout: options.readTimeoutMs,
      bodyTimeout: options.readTimeoutMs,
    };
    this.agent = new Agent(poolOptions);
    // Requests on the proxy routes skip the DNS cache: the proxy resolves the names it is sent,
    // and undici's routing agent sends NO_PROXY hosts through a direct agent of its own.
    this.proxies = new UndiciProxies(poolOptions, options, options.connectTimeoutMs);
    const base =
      options.dnsCacheTtlMs > 0
        ? this.agent.compose(interceptors.dns({ maxTTL: options.dnsCacheTtlMs }))
        : this.agent;
    this.dispatcher = base.compose(interceptors.redirect());
  }

  readonly send: SendAttempt = (attempt) => this.sendAttempt(attempt);

  acquired(): number {
    return this.limiter.acquired;
  }

  pending(): number {
    return this.limiter.pending;
  }

  pendingByOrigin(): Map<string, number> {
    return this.limiter.pendingByKey();
  }

  /** The client's proxies (credentials masked), or undefined when it goes direct. */
  proxySummary(): HttpPoolProxySummary | undefined {
    return this.proxies.summary();
  }

  origins(): HttpPoolOriginStats[] {
    const byOrigin = new Map<string, HttpPoolOriginStats>();
    const all = Object.entries(this.agent.stats as unknown as Record<string, UndiciOriginStats>);
    for (const [origin, s] of [
      ...all,
      ...(this.proxies.stats() as Array<[string, UndiciOriginStats]>),
    ]) {
      const f = originFigures(s);
      const known = byOrigin.get(origin);
      if (known) {
        known.connected += f.connected;
        known.idle += f.idle;
        known.active = Math.max(0, known.connected - known.idle);
        known.pending += f.pending;
        continue;
      }
      const stats: HttpPoolOriginStats = {
        origin,
        connected: f.connected,
        active: Math.max(0, f.connected - f.idle),
        idle: f.idle,
        pending: f.pending,
      };
      const hint = this.upstreamKeepAlive.get(origin);
      if (hint !== undefined) stats.upstreamKeepAliveMs = hint;
      byOrigin.set(origin, stats);
    }
    return [...byOrigin.values()];
  }

  watchConnections(closed: (origin: string, seconds: number) => void): void {
    // undici reports each socket of each origin's clients as 'connect' / 'disconnect' on the
    // agent; the last target is the client that owns the socket (one socket at a time).
    const openedAt = new WeakMap<Dispatcher, number>();
    this.agent.on('connect', (_origin, targets) => {
      const client = targets.at(-1);
      if (client !== undefined) openedAt.set(client, performance.now());
    });
    this.agent.on('disconnect', (origin, targets) => {
      const client = targets.at(-1);
      const at = client === undefined ? undefined : openedAt.get(client);
      if (client === undefined || at === undefined) return;
      openedAt.delete(client);
      closed(origin.origin, (performance.now() - at) / 1000);
    });
  }

  close(timeoutMs: number): Promise<void> {
    this.closing ??= (async () => {
      // Agent#close() would forget its pools at once, leaving nothing for a later destroy() to
      // cut; so wait for in-flight requests (streams included) here, then destroy everything.
      await waitAtMost(this.limiter.whenIdle(), timeoutMs);
      await Promise.all([this.agent.destroy(), this.proxies.destroy()]);
    })();
    return this.closing;
  }

  private async sendAttempt(attempt: TransportAttempt): Promise<AxiosResponse> {
    const { config, url } = attempt;
    const request = requestInfo(attempt);
    if (this.closing) {
      throw new AxiosError(
        'The HTTP client is shutting down; no new requests are sent.',
        'ERR_POOL_CLOSED',
        config,
        request,
      );
    }
    const headers = undiciHeaders(config);
    // Chosen before a slot is taken: a malformed per-request `proxy` fails without holding one.
    const dispatcher = this.proxies.dispatcherFor(config.proxy, this.dispatcher, config);
    const release: ReleaseSlot =
      this.limiter.tryAcquire() ??
      (await this.limiter.acquire(attempt.signal, url.origin).catch(rethrowAbort(attempt.signal)));
    const exchange: UndiciExchange = {
      attempt,
      request,
      headers,
      release,
      keepAliveHint: (header) => this.recordKeepAliveHint(url.origin, header),
    };
    const sent =
      config.responseType === 'stream'
        ? sendStreamed(dispatcher, exchange)
        : sendBuffered(dispatcher, exchange);
    if (dispatcher === this.dispatcher) return sent;
    return sent.catch((error: unknown) => {
      throw this.proxies.explain(error, url, config.proxy, config, request);
    });
  }

  private recordKeepAliveHint(origin: string, header: string | string[]): void {
    // Upstreams repeat the same header on every response; parse only when it changes.
    const raw = Array.isArray(header) ? header.join(',') : header;
    if (this.lastKeepAliveHeader.get(origin) === raw) return;
    this.lastKeepAliveHeader.set(origin, raw);
    const { timeoutMs } = parseKeepAliveHeader(raw);
    if (timeoutMs === undefined) this.upstreamKeepAlive.delete(origin);
    else this.upstreamKeepAlive.set(origin, timeoutMs);
  }
}

function rethrowAbort(signal: AbortSignal): (error: unknown) => never {
  return (error) => {
    throw signal.aborted ? signal.reason : error;
  };
}
