import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

import { waitAtMost } from '@nest-pools/core';
import type { AxiosAdapter, AxiosRequestConfig, AxiosResponse } from 'axios';
import axios, { AxiosError, AxiosHeaders } from 'axios';

import type { HttpPoolOriginStats } from '../interfaces/http-pool-stats.interface.js';
import { DnsCache } from './dns-cache.js';
import { withTlsHint } from './tls-errors.js';
import type { PoolTlsOptions } from './tls-options.js';
import type { PooledTransport, SendAttempt, TransportAttempt } from './transport.interface.js';

/** `Agent#createConnection`, which Node's typings leave out. */
type CreateConnection = (
  options: { host?: string | null; port?: number | string | null },
  callback?: (err: Error | null, socket?: Duplex) => void,
) => Duplex | undefined;

/** Calls `observe` with every socket `agent` opens, and the options it was opened with. */
function onEachConnection(
  agent: http.Agent,
  observe: (socket: Duplex, options: Parameters<CreateConnection>[0]) => void,
): void {
  const target = agent as unknown as { createConnection: CreateConnection };
  const create = target.createConnection;
  target.createConnection = function (this: unknown, options, callback) {
    const socket = create.call(this, options, callback);
    if (socket) observe(socket, options);
    return socket;
  };
}

/** A host as it stands in a URL: IPv6 addresses in brackets. */
function hostPart(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Settings of the Node `http`/`https` agent transport. */
export interface NodeHttpTransportOptions {
  /** Sockets across all origins (`maxTotalSockets`). */
  poolLimit: number;
  /** Sockets per origin (`maxSockets`, also the idle sockets kept per origin). */
  limitPerHost: number;
  /**
   * Idle socket timeout (the agent's `timeout`); Node also honours `Keep-Alive: timeout=`. 0: no
   * reuse, every request sends `Connection: close`.
   */
  keepAliveTimeoutMs: number;
  /** Longest silence on the socket during one attempt (axios's own per-request `timeout`). */
  readTimeoutMs: number;
  /** CA, client certificate and verification of the `https.Agent`'s sockets. */
  tls: PoolTlsOptions;
  /** Resolved addresses kept this long ({@link DnsCache}); 0: every connection resolves anew. */
  dnsCacheTtlMs: number;
}

/** Connection failures after which a cached address is resolved again. */
const STALE_ADDRESS_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The stock axios `http` adapter on keep-alive `http.Agent`/`https.Agent`s with socket limits and
 * LIFO reuse and a {@link DnsCache}. Kept selectable (`transport: 'http'`) for code that relies on
 * Node's agents (custom `lookup`, `socketPath`); it is several times slower than the undici
 * transport.
 */
export class NodeHttpTransport implements PooledTransport {
  readonly kind = 'http' as const;
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
  /** The DNS cache, when `dnsCacheTtlMs` > 0. */
  readonly dnsCache: DnsCache | undefined;
  private readonly stock: AxiosAdapter;
  private inFlight = 0;
  private closing: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: NodeHttpTransportOptions) {
    const agentOptions: http.AgentOptions = {
      keepAlive: options.keepAliveTimeoutMs > 0,
      maxSockets: options.limitPerHost,
      maxTotalSockets: options.poolLimit,
      maxFreeSockets: options.limitPerHost,
      scheduling: 'lifo',
      timeout: options.keepAliveTimeoutMs,
    };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent({ ...agentOptions, ...options.tls });
    this.stock = axios.getAdapter('http');
    this.dnsCache =
      options.dnsCacheTtlMs > 0 ? new DnsCache({ ttlMs: options.dnsCacheTtlMs }) : undefined;
    if (this.dnsCache) this.forgetRefusedAddresses(this.dnsCache);
  }

  /** A connection refused or timed out drops its host's cached addresses (the upstream may have moved). */
  private forgetRefusedAddresses(cache: DnsCache): void {
    for (const agent of [this.httpAgent, this.httpsAgent]) {
      onEachConnection(agent, (socket, { host }) => {
        if (!host) return;
        socket.once('error', (error: NodeJS.ErrnoException) => {
          // With several addresses `net` reports an AggregateError of the attempts.
          const { errors = [] } = error as { errors?: NodeJS.ErrnoException[] };
          const codes = [error.code, ...errors.map((e) => e.code)];
          if (codes.some((code) => STALE_ADDRESS_CODES.has(code ?? ''))) cache.forget(host);
        });
      });
    }
  }

  watchConnections(closed: (origin: string, seconds: number) => void): void {
    for (const [agent, scheme] of [
      [this.httpAgent, 'http:'],
      [this.httpsAgent, 'https:'],
    ] as const) {
      onEachConnection(agent, (socket, options) => {
        const openedAt = performance.now();
        // A `socketPath` connection has no host or port: it is labelled as Node addresses it.
        const origin = `${scheme}//${hostPart(options.host || 'localhost')}:${options.port || (scheme === 'https:' ? 443 : 80)}`;
        socket.once('close', () => closed(origin, (performance.now() - openedAt) / 1000));
      });
    }
  }

  readonly send: SendAttempt = async ({ config, signal }: TransportAttempt) => {
    if (this.closing) {
      throw new AxiosError(
        'The HTTP client is shutting down; no new requests are sent.',
        'ERR_POOL_CLOSED',
        config,
      );
    }
    this.inFlight++;
    try {
      const response: AxiosResponse = await this.stock({
        ...config,
        ...(this.options.keepAliveTimeoutMs > 0
          ? {}
          : { headers: AxiosHeaders.from(config.headers).set('Connection', 'close') }),
        signal,
        cancelToken: undefined,
        // The caller's timeout is the total budget and is enforced above this transport.
        timeout: this.options.readTimeoutMs,
        validateStatus: null,
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        // Per request: an agent's own options would override the caller's `lookup`.
        ...(this.dnsCache && config.lookup === undefined
          ? { lookup: this.dnsCache.lookup as unknown as AxiosRequestConfig['lookup'] }
          : {}),
      });
      response.config = config;
      return response;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof AxiosError) {
        error.config = config;
        error.message = withTlsHint(error.message, error.code);
      }
      throw error;
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  };

  acquired(): number {
    return this.inFlight;
  }

  pending(): number {
    return this.origins().reduce((sum, o) => sum + o.pending, 0);
  }

  pendingByOrigin(): Map<string, number> {
    return new Map();
  }

  origins(): HttpPoolOriginStats[] {
    const byOrigin = new Map<string, HttpPoolOriginStats>();
    const add = (agent: http.Agent, scheme: string) => {
      const count = (
        table: NodeJS.ReadOnlyDict<unknown[]>,
        field: 'active' | 'idle' | 'pending',
      ) => {
        for (const [name, list] of Object.entries(table)) {
          // Agent keys look like `host:port:` (plus TLS options for https); a `socketPath`
          // request has neither, and is sent to `localhost` as Node does.
          const [host = '', port = ''] = name.split(':');
          const origin = `${scheme}//${host || 'localhost'}${port ? `:${port}` : ''}`;
          const entry = byOrigin.get(origin) ?? {
            origin,
            connected: 0,
            active: 0,
            idle: 0,
            pending: 0,
          };
          entry[field] += list?.length ?? 0;
          byOrigin.set(origin, entry);
        }
      };
      count(agent.sockets, 'active');
      count(agent.freeSockets, 'idle');
      count(agent.requests, 'pending');
    };
    add(this.httpAgent, 'http:');
    add(this.httpsAgent, 'https:');
    for (const entry of byOrigin.values()) entry.connected = entry.active + entry.idle;
    return [...byOrigin.values()];
  }

  close(timeoutMs: number): Promise<void> {
    this.closing ??= (async () => {
      if (this.inFlight > 0) {
        await waitAtMost(new Promise<void>((resolve) => this.idleWaiters.push(resolve)), timeoutMs);
      }
      const sockets = [this.httpAgent, this.httpsAgent].flatMap((agent) =>
        [...Object.values(agent.sockets), ...Object.values(agent.freeSockets)].flatMap(
          (list) => list ?? [],
        ),
      );
      const gone = sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.destroyed) resolve();
            else socket.once('close', () => resolve());
          }),
      );
      this.httpAgent.destroy();
      this.httpsAgent.destroy();
      await Promise.all(gone);
    })();
    return this.closing;
  }
}
