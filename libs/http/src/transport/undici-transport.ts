import type { TLSSocket } from 'node:tls';

import { waitAtMost } from '@nest-pools/core';
import type { AxiosResponse } from 'axios';
import { AxiosError } from 'axios';
import type { Client, Dispatcher, Pool } from 'undici';
import { Agent, interceptors } from 'undici';

import type {
  HttpPoolOriginStats,
  HttpPoolProxySummary,
} from '../interfaces/http-pool-stats.interface.js';
import type { UndiciPoolResponse } from '../native/http-pool-response.js';
import type { NativeAttempt } from '../native/native-attempt.js';
import { toAxiosError } from './axios-errors.js';
import { parseKeepAliveHeader } from './keep-alive.js';
import type { ReleaseSlot } from './pool-limiter.js';
import { PoolLimiter } from './pool-limiter.js';
import { TlsAlertLog } from './tls-alerts.js';
import type { PoolTlsOptions } from './tls-options.js';
import type { PooledTransport, SendAttempt, TransportAttempt } from './transport.interface.js';
import { originPool } from './undici-origin-pool.js';
import { UndiciProxies, type UndiciProxyOptions } from './undici-proxy.js';
import { sendBuffered } from './undici-transport.buffered-response.js';
import { nativeRequestInfo, sendNative } from './undici-transport.native.js';
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
  /**
   * Idle time after which a pooled socket is closed; also caps an upstream's longer hint. 0: no
   * reuse, every request asks for `Connection: close` (undici's `reset`) on a socket of its own.
   */
  keepAliveTimeoutMs: number;
  /** DNS answers cached for this long (undici's `interceptors.dns`); 0 disables the cache. */
  dnsCacheTtlMs: number;
  /** CA, client certificate and verification of TLS connections (undici's `connect` options). */
  tls: PoolTlsOptions;
  /**
   * Offer HTTP/2 in ALPN: one connection per origin carrying up to `limitPerHost` concurrent
   * streams (an origin that answers HTTP/1.1 gets one connection, its requests pipelined).
   */
  allowH2: boolean;
  /** With `allowH2`: called once per origin whose upstream chose HTTP/1.1 in ALPN. */
  onHttp1Fallback?: (origin: string) => void;
}

/** Settings of the undici transport, proxies included (see {@link UndiciProxies}). */
export type UndiciTransportSettings = UndiciTransportOptions & UndiciProxyOptions;

/**
 * Margin kept below an upstream's advertised `Keep-Alive: timeout=`: the upstream closes at
 * exactly its timeout, and a request sent in the last moment races the FIN. undici's own default
 * (2 s) would make a 1–2 s upstream timeout disable reuse entirely.
 */
export const KEEP_ALIVE_THRESHOLD_MS = 500;

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

/** Keep-alive off: each dispatch sends `Connection: close` and its socket closes after it. */
const closeEach: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) =>
  dispatch({ ...options, reset: true }, handler);

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
  /**
   * The direct route (DNS cache included). Buffered and native requests follow redirects in
   * their own dispatch handlers; only streamed ones go through undici's redirect interceptor.
   */
  private readonly direct: Dispatcher;
  /** Each route with undici's redirect interceptor, for streamed responses (`request()`). */
  private readonly redirecting = new WeakMap<Dispatcher, Dispatcher>();
  private readonly proxies: UndiciProxies;
  private readonly upstreamKeepAlive = new Map<string, number>();
  private readonly lastKeepAliveHeader = new Map<string, string>();
  private readonly tlsAlerts = new TlsAlertLog();
  private readonly http1Origins = new Set<string>();
  private closing: Promise<void> | undefined;
  /** Watches the connections of each origin's socket pool (set by {@link watchConnections}). */
  private connectionWatch: ((pool: Dispatcher) => void) | undefined;
  /** Pools made before {@link watchConnections} was called. */
  private readonly unwatched = new Set<Pool | Client>();

  constructor(options: UndiciTransportSettings) {
    this.limiter = new PoolLimiter(options.poolLimit);
    const tlsConnect = {
      ...options.tls,
      allowH2: options.allowH2,
      timeout: options.connectTimeoutMs,
    };
    const poolOptions: Pool.Options = {
      ...http2Settings(options),
      connect: this.tlsAlerts.connector(
        tlsConnect,
        options.allowH2 ? (socket, origin) => this.checkAlpn(socket, origin, options) : undefined,
      ),
      // undici refuses a keep-alive timeout of 0; with reuse off (below) it never applies.
      keepAliveTimeout: Math.max(1, options.keepAliveTimeoutMs),
      keepAliveMaxTimeout: Math.max(1, options.keepAliveTimeoutMs),
      keepAliveTimeoutThreshold: KEEP_ALIVE_THRESHOLD_MS,
      connectTimeout: options.connectTimeoutMs,
      headersTimeout: options.readTimeoutMs,
      bodyTimeout: options.readTimeoutMs,
    };
    this.agent = new Agent({
      ...poolOptions,
      factory: (origin, opts) => originPool(origin, opts, (pool) => this.watchPool(pool)),
    });
    // Requests on the proxy routes skip the DNS cache: the proxy resolves the names it is sent,
    // and undici's routing agent sends NO_PROXY hosts through a direct agent of its own. Their
    // pools get the TLS settings as plain options, which undici also applies to the upstream
    // inside a CONNECT tunnel (`requestTls`); a connector function could not be passed on.
    this.proxies = new UndiciProxies(
      { ...poolOptions, connect: tlsConnect },
      options,
      options.connectTimeoutMs,
    );
    const reuse = options.keepAliveTimeoutMs > 0 ? this.agent : this.agent.compose(closeEach);
    const base =
      options.dnsCacheTtlMs > 0
        ? reuse.compose(interceptors.dns({ maxTTL: options.dnsCacheTtlMs }))
        : reuse;
    this.direct = base;
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
    // origin's socket pool (the agent's, and each one a proxy opened: to the proxy, or through a
    // CONNECT tunnel to the upstream); the last target is the client that owns the socket (one
    // socket at a time). Pools are watched directly: a closing pool's events stay out of the
    // agent's own count (see originPool).
    const openedAt = new WeakMap<Dispatcher, number>();
    const watch = (emitter: Dispatcher): void => {
      emitter.on('connect', (_origin, targets) => {
        const client = targets.at(-1);
        if (client !== undefined) openedAt.set(client, performance.now());
      });
      emitter.on('disconnect', (origin, targets) => {
        const client = targets.at(-1);
        const at = client === undefined ? undefined : openedAt.get(client);
        if (client === undefined || at === undefined) return;
        openedAt.delete(client);
        closed(origin.origin, (performance.now() - at) / 1000);
      });
    };
    this.connectionWatch = watch;
    for (const pool of this.unwatched) watch(pool);
    this.unwatched.clear();
    this.proxies.watchConnections(watch);
  }

  private watchPool(pool: Pool | Client): void {
    if (this.connectionWatch) {
      this.connectionWatch(pool);
      return;
    }
    for (const known of this.unwatched)
      if (known.closed || known.destroyed) this.unwatched.delete(known);
    this.unwatched.add(pool);
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

  /**
   * One request of the native client (`HttpPoolRequester`) on undici's dispatch API: the same
   * sockets, `poolLimit` slots, proxies and error codes as the axios path. The slot stays taken
   * until the response body is in (or cut); redirects are followed by {@link sendNative}.
   */
  readonly sendNative = (attempt: NativeAttempt): Promise<UndiciPoolResponse> => {
    const dispatcher = this.proxies.dispatcherFor(undefined, this.direct, attempt.config);
    // The common case, a plain-http upstream reached directly with a slot free, goes straight
    // to the dispatch handler: no error to explain on the way back, no closure in between.
    if (!this.closing && dispatcher === this.direct && !attempt.origin.startsWith('https:')) {
      const release = this.limiter.tryAcquire();
      if (release) return sendNative(dispatcher, attempt, release);
    }
    return this.dispatchWith(attempt, dispatcher, nativeRequestInfo, (route, release) =>
      sendNative(route, attempt, release),
    );
  };

  private sendAttempt(attempt: TransportAttempt): Promise<AxiosResponse> {
    const { config } = attempt;
    const request = requestInfo(attempt);
    // Chosen before a slot is taken: a malformed per-request `proxy` fails without holding one.
    const route = this.closing
      ? this.direct
      : this.proxies.dispatcherFor(config.proxy, this.direct, config);
    const streamed = config.responseType === 'stream';
    return this.dispatchWith(
      attempt,
      route,
      () => request,
      (dispatcher, release) => {
        const exchange: UndiciExchange = {
          attempt,
          request,
          headers: undiciHeaders(config),
          release,
          keepAliveHint: (header) => this.recordKeepAliveHint(attempt.origin, header),
        };
        return streamed
          ? sendStreamed(this.withRedirects(dispatcher), exchange)
          : sendBuffered(dispatcher, exchange);
      },
    );
  }

  /**
   * What both request APIs share around one attempt: refusal once closing, a `poolLimit` slot,
   * and failures explained (proxy, TLS alert). `dispatcher` is the route (the direct one or a
   * proxy's); `requestOf` builds axios's `request` stand-in for error reports.
   */
  private dispatchWith<T>(
    attempt: TransportAttempt,
    dispatcher: Dispatcher,
    requestOf: (attempt: TransportAttempt) => unknown,
    send: (dispatcher: Dispatcher, release: ReleaseSlot) => Promise<T>,
  ): Promise<T> {
    const { config, url } = attempt;
    const sendOn = (release: ReleaseSlot): Promise<T> => {
      let sent: Promise<T>;
      try {
        sent = send(dispatcher, release);
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what send threw, unchanged
        return Promise.reject(error);
      }
      if (dispatcher === this.direct) {
        return url.protocol === 'https:' ? this.reportTlsAlert(sent, attempt, requestOf) : sent;
      }
      return sent.catch((error: unknown) => {
        throw this.proxies.explain(error, url, config.proxy, config, requestOf(attempt));
      });
    };
    if (this.closing) {
      const message = 'The HTTP client is shutting down; no new requests are sent.';
      return Promise.reject(new AxiosError(message, 'ERR_POOL_CLOSED', config, requestOf(attempt)));
    }
    // A free slot (the common case) sends at once, with no promise in between.
    const release = this.limiter.tryAcquire();
    if (release) return sendOn(release);
    return this.limiter
      .acquire(attempt.signal, attempt.origin)
      .catch(rethrowAbort(attempt.signal))
      .then(sendOn);
  }

  /** `route` with undici's redirect interceptor (made once per route). */
  private withRedirects(route: Dispatcher): Dispatcher {
    let composed = this.redirecting.get(route);
    if (composed === undefined) {
      composed = route.compose(interceptors.redirect());
      this.redirecting.set(route, composed);
    }
    return composed;
  }

  /** A TLS alert the upstream sent replaces the `other side closed` undici reports for it. */
  private async reportTlsAlert<T>(
    sent: Promise<T>,
    attempt: TransportAttempt,
    requestOf: (attempt: TransportAttempt) => unknown,
  ): Promise<T> {
    try {
      return await sent;
    } catch (error) {
      const alert = this.tlsAlerts.take(error);
      throw alert ? toAxiosError(alert, attempt.config, requestOf(attempt)) : error;
    }
  }

  private checkAlpn(socket: TLSSocket, origin: string, options: UndiciTransportOptions): void {
    if (socket.alpnProtocol === 'h2' || this.http1Origins.has(origin)) return;
    this.http1Origins.add(origin);
    options.onHttp1Fallback?.(origin);
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

/**
 * Connections and concurrency per origin. undici 7 gates every connection, HTTP/2 ones included,
 * by `pipelining`, and a pool opens a new connection for each request that arrives while the
 * first one is still negotiating ALPN; so with HTTP/2 one connection per origin, with
 * `limitPerHost` streams on it, is what makes the limit mean streams and keeps one session.
 */
function http2Settings(options: UndiciTransportOptions): Partial<Agent.Options> {
  if (!options.allowH2) return { connections: options.limitPerHost, pipelining: 1 };
  return {
    allowH2: true,
    connections: 1,
    pipelining: options.limitPerHost,
    maxConcurrentStreams: options.limitPerHost,
  };
}

function rethrowAbort(signal: AbortSignal): (error: unknown) => never {
  return (error) => {
    throw signal.aborted ? signal.reason : error;
  };
}
