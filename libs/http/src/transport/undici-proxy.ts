import { isIP } from 'node:net';

import { redactUrl } from '@nest-pools/core';
import type { AxiosProxyConfig, InternalAxiosRequestConfig } from 'axios';
import { AxiosError } from 'axios';
import type { Dispatcher } from 'undici';
import { type Client, EnvHttpProxyAgent, type Pool, ProxyAgent } from 'undici';

import type { HttpPoolProxySummary } from '../interfaces/http-pool-stats.interface.js';
import { originPool } from './undici-origin-pool.js';

/** The proxy keys of a client's resolved config (`HTTP_PROXY_URL`, `http(s)_proxy`, `no_proxy`). */
export interface UndiciProxyOptions {
  /** The client's own proxy for every URL; `false` = always direct. */
  proxy?: string | false;
  /** Proxy for http:// URLs (and https:// ones without {@link httpsProxy}). */
  httpProxy?: string;
  /** Proxy for https:// URLs. */
  httpsProxy?: string;
  /** Hosts that go direct (undici's `NO_PROXY` rules). */
  noProxy?: string;
}

/** What `EnvHttpProxyAgent` is given: empty strings, so that it never reads `process.env`. */
interface ProxyRoutes {
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
}

/** Routes of a client: the explicit `proxy` wins over the standard variables; `false` = none. */
export function proxyRoutes(options: UndiciProxyOptions): ProxyRoutes | undefined {
  if (options.proxy === false) return undefined;
  const httpProxy = options.proxy ?? options.httpProxy ?? '';
  const httpsProxy = options.proxy ?? options.httpsProxy ?? '';
  if (httpProxy === '' && httpsProxy === '') return undefined;
  return { httpProxy, httpsProxy, noProxy: options.noProxy ?? '' };
}

/** A proxy URL with its userinfo fully masked (user names can be tokens too). */
export function maskProxyUrl(url: string): string {
  if (!URL.canParse(url)) return redactUrl(url);
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return parsed.origin;
  return `${parsed.protocol}//***:***@${parsed.host}`;
}

/** Turns axios's per-request `proxy: { protocol, host, port, auth }` into a proxy URL. */
export function axiosProxyUrl(proxy: AxiosProxyConfig): string | undefined {
  if (typeof proxy.host !== 'string' || proxy.host === '') return undefined;
  const protocol = (proxy.protocol ?? 'http').replace(/:$/, '').toLowerCase();
  if (protocol !== 'http' && protocol !== 'https') return undefined;
  const port = Number(proxy.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const host =
    proxy.host.includes(':') && !proxy.host.startsWith('[') ? `[${proxy.host}]` : proxy.host;
  if (!URL.canParse(`${protocol}://${host}:${port}`)) return undefined;
  const url = new URL(`${protocol}://${host}:${port}`);
  if (proxy.auth) {
    url.username = encodeURIComponent(proxy.auth.username);
    url.password = encodeURIComponent(proxy.auth.password);
  }
  return url.href;
}

/** undici's per-origin stats of a `Pool`, or of a single `Client`. */
type DispatcherStats = Pool['stats'] | Client['stats'];

interface Tracked {
  origin: string;
  dispatcher: Pool | Client;
}

/** What a failed proxied request is re-labelled with. */
interface Route {
  /** The proxy's URL (credentials included: never shown). */
  proxy: string;
}

const TUNNEL_REFUSED = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling$/;
const FORWARD_407 = 'Proxy Authentication Required (407)';
const PROXY_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** The TLS options of a pool's `connect` setting, when it is an options object. */
function tlsOptionsOf(connect: Pool.Options['connect']): object {
  return typeof connect === 'object' && connect !== null ? connect : {};
}

function causeOf(error: unknown): Record<string, unknown> | undefined {
  const cause = error instanceof AxiosError ? (error.cause ?? error) : error;
  return typeof cause === 'object' && cause !== null
    ? (cause as Record<string, unknown>)
    : undefined;
}

/**
 * The proxies of one undici transport: the client's routes (undici's `EnvHttpProxyAgent`, fed the
 * resolved `proxy` / `http(s)_proxy` / `no_proxy` values rather than `process.env`) and the
 * `ProxyAgent`s of per-request `proxy: { … }` options. Plain http:// URLs are forwarded in
 * absolute-URI form (what proxies allow for port 80), https:// ones go through a CONNECT tunnel.
 * Every socket pool they open is made with the transport's pool options (`limitPerHost`
 * connections, keep-alive, timeouts) and tracked, so stats and metrics include them.
 */
export class UndiciProxies {
  /** The client's routes (undici's `EnvHttpProxyAgent`), when it has proxies. */
  private readonly routed: Dispatcher | undefined;
  private readonly routes: ProxyRoutes | undefined;
  private readonly agents: Dispatcher[] = [];
  private readonly perRequest = new Map<string, Dispatcher>();
  private readonly tracked = new Set<Tracked>();
  private readonly agentOptions: ProxyAgent.Options;
  private connectionWatcher: ((dispatcher: Dispatcher) => void) | undefined;

  /**
   * @param poolOptions the transport's options of every socket pool (connections, timeouts, and
   *   `connect` TLS options, which also apply to the upstream inside CONNECT tunnels)
   * @param options the client's proxy settings
   * @param connectTimeoutMs connect timeout to the proxy, and of the TLS handshake in a tunnel
   */
  constructor(
    private readonly poolOptions: Pool.Options,
    options: UndiciProxyOptions,
    connectTimeoutMs: number,
  ) {
    const factory = (origin: string | URL, opts: object): Dispatcher => {
      const merged: Pool.Options = { ...this.poolOptions, ...opts };
      const dispatcher = originPool(origin, merged, (pool) => this.connectionWatcher?.(pool));
      this.tracked.add({ origin: new URL(String(origin)).origin, dispatcher });
      return dispatcher;
    };
    this.agentOptions = {
      ...poolOptions,
      uri: '',
      factory,
      proxyTunnel: false,
      proxyTls: { timeout: connectTimeoutMs },
      // Inside a tunnel the upstream's TLS is set up by the proxy agent, not by the pools: give it
      // the same TLS options (trusted CAs, client certificate) as the direct connections.
      requestTls: { ...tlsOptionsOf(poolOptions.connect), timeout: connectTimeoutMs },
    };
    this.routes = proxyRoutes(options);
    if (this.routes) {
      const { uri: _unused, ...agentOptions } = this.agentOptions;
      const agent = new EnvHttpProxyAgent({ ...agentOptions, ...this.routes });
      this.agents.push(agent);
      this.routed = agent;
    }
  }

  /** The client's proxies, credentials masked; undefined when every request goes direct. */
  summary(): HttpPoolProxySummary | undefined {
    const routes = this.routes;
    if (!routes) return undefined;
    const out: HttpPoolProxySummary = {};
    if (routes.httpProxy) out.http = maskProxyUrl(routes.httpProxy);
    const https = routes.httpsProxy || routes.httpProxy;
    if (https) out.https = maskProxyUrl(https);
    if (routes.noProxy) out.noProxy = routes.noProxy;
    return out;
  }

  /**
   * The dispatcher of one request: `direct` for axios's `proxy: false`, a `ProxyAgent` for
   * `proxy: { protocol, host, port, auth }`, else the client's routes (or `direct` without any).
   *
   * @throws AxiosError `ERR_BAD_OPTION_VALUE` for a `proxy` option of another shape
   */
  dispatcherFor(
    proxy: unknown,
    direct: Dispatcher,
    config: InternalAxiosRequestConfig,
  ): Dispatcher {
    if (proxy === undefined || proxy === null) return this.routed ?? direct;
    if (proxy === false) return direct;
    const url = typeof proxy === 'object' ? axiosProxyUrl(proxy as AxiosProxyConfig) : undefined;
    if (url === undefined) {
      throw new AxiosError(
        'The request option `proxy` must be false (go direct) or { protocol: "http" | "https", host, port, auth?: { username, password } }.',
        AxiosError.ERR_BAD_OPTION_VALUE,
        config,
      );
    }
    let dispatcher = this.perRequest.get(url);
    if (!dispatcher) {
      dispatcher = new ProxyAgent({ ...this.agentOptions, uri: url });
      this.agents.push(dispatcher);
      this.perRequest.set(url, dispatcher);
    }
    return dispatcher;
  }

  /**
   * Calls `watch` with every socket pool the proxies open (those already open, then each new
   * one), so their connections are observed like the direct ones.
   */
  watchConnections(watch: (dispatcher: Dispatcher) => void): void {
    this.connectionWatcher = watch;
    for (const entry of this.tracked) watch(entry.dispatcher);
  }

  /** Per-origin stats of every live socket pool the proxies opened (one origin may repeat). */
  stats(): Array<[string, DispatcherStats]> {
    const out: Array<[string, DispatcherStats]> = [];
    for (const entry of this.tracked) {
      if (entry.dispatcher.closed || entry.dispatcher.destroyed) this.tracked.delete(entry);
      else out.push([entry.origin, entry.dispatcher.stats]);
    }
    return out;
  }

  /**
   * A proxied request's failure said in words that name the proxy (credentials masked):
   * a 407 becomes `ERR_PROXY_AUTH`, a refused CONNECT `ERR_PROXY_TUNNEL` (with the proxy's
   * `status`), and a network error of the proxy connection keeps its code (so the retry rules
   * apply as to any network error) with the proxy named. Anything else is returned unchanged.
   */
  explain(
    error: unknown,
    url: URL,
    proxy: unknown,
    config: InternalAxiosRequestConfig,
    request: unknown,
  ): unknown {
    const route = this.routeOf(url, proxy);
    const cause = causeOf(error);
    if (!route || !cause) return error;
    const label = maskProxyUrl(route.proxy);
    const message = typeof cause.message === 'string' ? cause.message : '';
    const tunnel = TUNNEL_REFUSED.exec(message);
    const status = tunnel?.[1] ? Number(tunnel[1]) : message === FORWARD_407 ? 407 : undefined;
    let wrapped: AxiosError | undefined;
    if (status === 407) {
      const given = new URL(route.proxy).username !== '';
      wrapped = new AxiosError(
        `The proxy ${label} answered 407 Proxy Authentication Required for ${url.origin}: ${
          given ? 'it refused the credentials in' : 'no credentials were given in'
        } the proxy URL; set them as user:password@ in the proxy's URL (HTTP_PROXY_URL, HTTPS_PROXY / HTTP_PROXY, or the proxy option).`,
        'ERR_PROXY_AUTH',
        config,
        request,
      );
    } else if (status !== undefined) {
      wrapped = new AxiosError(
        `The proxy ${label} could not open a tunnel to ${url.host} (CONNECT answered ${status}).`,
        'ERR_PROXY_TUNNEL',
        config,
        request,
      );
      wrapped.status = status;
    } else if (this.isProxyNetworkError(cause, route.proxy, url)) {
      const code = error instanceof AxiosError ? error.code : String(cause.code);
      wrapped = new AxiosError(
        `Could not reach the proxy ${label} for ${url.origin}: ${message || String(cause.code)}`,
        code,
        config,
        request,
      );
    }
    if (!wrapped) return error;
    const original = error instanceof AxiosError ? (error.cause ?? error) : error;
    if (original instanceof Error) wrapped.cause = original;
    return wrapped;
  }

  /** Closes every proxy agent at once (the transport waited for in-flight requests). */
  async destroy(): Promise<void> {
    await Promise.all(this.agents.map((agent) => agent.destroy()));
  }

  private routeOf(url: URL, proxy: unknown): Route | undefined {
    if (proxy === false) return undefined;
    if (proxy !== undefined && proxy !== null) {
      const given =
        typeof proxy === 'object' ? axiosProxyUrl(proxy as AxiosProxyConfig) : undefined;
      return given === undefined ? undefined : { proxy: given };
    }
    const routes = this.routes;
    if (!routes) return undefined;
    const chosen =
      url.protocol === 'https:' ? routes.httpsProxy || routes.httpProxy : routes.httpProxy;
    return chosen ? { proxy: chosen } : undefined;
  }

  /**
   * Whether a network error is the proxy's rather than the upstream's (a `NO_PROXY` host goes
   * direct on the same dispatcher). When the two cannot be told apart — a proxy named by host
   * name on the upstream's own port — the error is left as it is.
   */
  private isProxyNetworkError(cause: Record<string, unknown>, proxyUrl: string, url: URL): boolean {
    const code = cause.code;
    if (typeof code !== 'string' || !PROXY_NETWORK_CODES.has(code)) return false;
    const portOf = (u: URL) => Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const proxy = new URL(proxyUrl);
    const host = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = portOf(proxy);
    const upstreamHost = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (upstreamHost === host && portOf(url) === port) return false;
    if (cause.hostname !== undefined) return cause.hostname === host;
    if (cause.port === port) {
      if (cause.address === host) return true;
      // A proxy named by host name is reached at whatever address it resolved to.
      if (isIP(host) === 0 && portOf(url) !== port) return true;
    }
    const message = typeof cause.message === 'string' ? cause.message : '';
    return message.includes(`${host}:${port}`);
  }
}
