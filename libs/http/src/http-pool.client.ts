import type { PoolMetrics, PoolRegistry, ShutdownCoordinator } from '@nest-pools/core';
import {
  backoffDelay,
  type HealthCheckOutcome,
  PoolLifecycle,
  redactUrl,
  SharedHealthCheck,
} from '@nest-pools/core';
import type { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import type { AxiosInstance } from 'axios';
import axios from 'axios';

import type { HttpPoolConfig } from './config/index.js';
import { ErrorWindow } from './error-window.js';
import { HttpPoolBreakers } from './http-pool.breakers.js';
import {
  HTTP_POOL_DEGRADED_ERROR_RATIO,
  HTTP_POOL_ERROR_MIN_SAMPLES,
  HTTP_POOL_ERROR_WINDOW_MS,
  HTTP_POOL_HEALTH_CACHE_TTL_MS,
  HTTP_SHUTDOWN_ORDER,
  HTTP_SHUTDOWN_PHASE,
} from './http-pool.constants.js';
import { HttpPoolMetricsRecorder } from './http-pool.metrics.js';
import type { HttpPoolStats } from './interfaces/http-pool-stats.interface.js';
import { AxiosRoute, HttpPoolRequester, UndiciRoute } from './native/http-pool-requester.js';
import { PooledHttpService } from './pooled-http.service.js';
import type { RetrySettings } from './retry/attempt-runner.js';
import { requestOptionsCheck } from './transport/axios-options.js';
import { NodeHttpTransport } from './transport/node-http-transport.js';
import { createPooledAdapter } from './transport/pooled-adapter.js';
import { http1FallbackWarning, insecureTlsWarning } from './transport/tls-errors.js';
import { type PoolTlsOptions, readTlsOptions } from './transport/tls-options.js';
import type { PooledTransport } from './transport/transport.interface.js';
import { UndiciTransport } from './transport/undici-transport.js';

/** What a health probe of a client reports besides its status. */
export interface HttpPoolHealthDetails {
  /** `url` when a health URL was requested, `pool` for the error-ratio verdict. */
  mode: 'url' | 'pool';
  /** Status of the health request (url mode). */
  statusCode?: number;
  /** The pool's figures at probe time. */
  stats: HttpPoolStats;
}

/** The client's transport, with the TLS settings read once for it and its health probe. */
function createTransport(
  config: HttpPoolConfig,
  tls: PoolTlsOptions,
  onHttp1Fallback?: (origin: string) => void,
): PooledTransport {
  return config.transport === 'http'
    ? new NodeHttpTransport({ ...config, tls })
    : new UndiciTransport({ ...config, tls, onHttp1Fallback });
}

/**
 * One pooled outbound HTTP client: its transport (sockets, limits, keep-alive), the axios
 * instance and `HttpService` on it, retry, metrics, health and orderly close. Created by
 * `HttpPoolModule` per client name; inject it with `getHttpPoolClientToken(name)` for stats or
 * health, the `HttpService` with `InjectHttpPool(name)` for requests, and the native
 * {@link HttpPoolRequester} with `InjectHttpPoolRequester(name)` for hot paths.
 */
export class HttpPoolClient extends PoolLifecycle {
  /** The axios instance every request of this client goes through. */
  readonly axios: AxiosInstance;
  /** `@nestjs/axios`'s `HttpService` on {@link axios}. */
  readonly httpService: HttpService;
  /** The transport that owns the sockets. */
  readonly transport: PooledTransport;
  /** One circuit breaker per upstream origin (`HTTP_BREAKER_*`). */
  readonly breakers: HttpPoolBreakers;
  /** The native request API on the same sockets, limits, retry, breakers and metrics. */
  readonly requester: HttpPoolRequester;
  private readonly probeTransport: PooledTransport;

  private readonly logger: Logger;
  private readonly recorder: HttpPoolMetricsRecorder;
  private readonly window = new ErrorWindow(HTTP_POOL_ERROR_WINDOW_MS);
  private readonly health: SharedHealthCheck<HttpPoolHealthDetails>;
  private readonly probe: AxiosInstance;
  private readonly stopGaugeRefresh: () => void;
  private closing: Promise<void> | undefined;

  /**
   * @param config the client's resolved configuration (its `HTTP_POOL_CONFIG` provider)
   * @param metrics the application's pool metrics
   * @param registry where the client is found by name (`HttpPoolService`)
   * @param coordinator the application's shutdown coordinator, when it has one
   */
  constructor(
    readonly config: HttpPoolConfig,
    metrics: PoolMetrics,
    registry: PoolRegistry<HttpPoolClient>,
    coordinator?: ShutdownCoordinator,
  ) {
    super({
      name: config.name,
      system: HTTP_SHUTDOWN_PHASE,
      phase: HTTP_SHUTDOWN_PHASE,
      order: HTTP_SHUTDOWN_ORDER,
      shutdownTimeoutMs: config.shutdownTimeoutMs + 1000,
      registry,
      coordinator,
    });
    this.logger = new Logger(`HttpPool(${config.name})`);
    const tls = readTlsOptions(config);
    if (!tls.rejectUnauthorized) this.logger.warn(insecureTlsWarning(config.name));
    this.transport = createTransport(config, tls, (origin) =>
      this.logger.warn(http1FallbackWarning(config.name, origin)),
    );
    // The health request has its own socket: a saturated pool (every socket busy, requests
    // queued) is still up, and the probe never waits behind application traffic.
    this.probeTransport = createTransport({ ...config, poolLimit: 1, limitPerHost: 1 }, tls);
    this.breakers = new HttpPoolBreakers(config, metrics);
    this.recorder = new HttpPoolMetricsRecorder(metrics, config.name, (ok) =>
      this.window.record(ok),
    );
    this.transport.watchConnections((origin, seconds) =>
      this.recorder.connectionClosed(origin, seconds),
    );
    const retry: RetrySettings = {
      retries: config.retries,
      retryNonIdempotent: config.retryNonIdempotent,
      retryAfterMaxMs: config.retryAfterMaxMs,
      backoffMs: (attempt) =>
        backoffDelay(attempt, {
          baseMs: config.retryBackoffMs,
          maxMs: Math.max(config.retryBackoffMs, config.retryAfterMaxMs),
          jitter: 'full',
        }),
    };
    const defaults = {
      baseURL: config.baseURL,
      timeout: config.timeoutTotalMs,
      maxRedirects: config.maxRedirects,
      headers: { ...config.headers, 'User-Agent': config.userAgent },
    };
    const checkOptions = requestOptionsCheck(config.name, this.transport.kind);
    this.axios = axios.create({
      ...defaults,
      adapter: createPooledAdapter(
        this.transport.send,
        retry,
        this.recorder,
        this.breakers,
        checkOptions,
      ),
    });
    this.httpService = new PooledHttpService(this.axios);
    this.requester = new HttpPoolRequester(
      this.transport instanceof UndiciTransport
        ? new UndiciRoute({
            name: config.name,
            baseURL: config.baseURL,
            timeoutTotalMs: config.timeoutTotalMs,
            maxRedirects: config.maxRedirects,
            headers: defaults.headers,
            retry,
            observer: this.recorder,
            gate: this.breakers,
            send: this.transport.sendNative,
          })
        : // Node's agents have no native path: the client's axios pipeline serves the requests.
          new AxiosRoute(this.axios),
    );
    // Health requests are not retried: a probe reports what the upstream does now.
    this.probe = axios.create({
      ...defaults,
      adapter: createPooledAdapter(this.probeTransport.send, { ...retry, retries: 0 }),
    });
    this.health = new SharedHealthCheck((signal) => this.check(signal), {
      timeoutMs: config.healthTimeoutMs,
      cacheTtlMs: HTTP_POOL_HEALTH_CACHE_TTL_MS,
      label: config.healthUrl ? `GET ${redactUrl(config.healthUrl)}` : 'http pool error ratio',
      poolName: config.name,
      classify: (details) =>
        details.mode === 'pool' &&
        details.stats.recent.requests >= HTTP_POOL_ERROR_MIN_SAMPLES &&
        details.stats.recent.errorRatio >= HTTP_POOL_DEGRADED_ERROR_RATIO
          ? 'degraded'
          : 'up',
    });
    // The socket gauges are read off the transport whenever either is scraped, so they are
    // exact at that moment (one refresh writes both).
    const refresh = () => this.refreshGauges();
    const stops = [
      metrics.onCollect(metrics.httpOpenConnections, refresh),
      metrics.onCollect(metrics.httpPendingRequests, refresh),
    ];
    this.stopGaugeRefresh = () => stops.forEach((stop) => stop());
    const proxy = this.transport.proxySummary?.();
    if (proxy) {
      const noProxy = proxy.noProxy ? `; direct for ${proxy.noProxy}` : '';
      this.logger.log(
        `requests go through proxies: http ${proxy.http ?? 'direct'}, https ${proxy.https ?? 'direct'}${noProxy}`,
      );
    }
  }

  /** Client name. */
  get name(): string {
    return this.config.name;
  }

  /** Nothing to connect ahead: sockets open on the first request. */
  protected start(): Promise<void> {
    return Promise.resolve();
  }

  /** What is still open, for the shutdown deadline report. */
  describeOpen(): string[] {
    const s = this.stats();
    return [`${s.acquired} requests in flight, ${s.connections} sockets open`];
  }

  /** The seeds' pool figures plus pending requests and the recent error ratio. */
  stats(): HttpPoolStats {
    const origins = this.transport.origins();
    const acquiredPerHost: Record<string, number> = {};
    let connections = 0;
    let idle = 0;
    let pending = this.transport.pending();
    for (const o of origins) {
      acquiredPerHost[o.origin] = o.active;
      connections += o.connected;
      idle += o.idle;
      if (this.transport.kind === 'undici') pending += o.pending;
    }
    const recent = this.window.totals();
    const proxy = this.transport.proxySummary?.();
    return {
      name: this.name,
      transport: this.transport.kind,
      breakers: this.breakers.states(),
      limit: this.config.poolLimit,
      limitPerHost: this.config.limitPerHost,
      connections,
      idle,
      acquired: this.transport.acquired(),
      acquiredPerHost,
      pending,
      recent: { requests: recent.total, failed: recent.failed, errorRatio: recent.ratio },
      origins,
      closed: this.closing !== undefined,
      ...(proxy ? { proxy } : {}),
    };
  }

  /**
   * Health of the client; never rejects. With `healthUrl`: a GET (not retried) within
   * `healthTimeoutMs`, `up` on a status below 400. Without: `degraded` when at least half of the
   * recent attempts (≥ 10 in the last minute) failed, else `up`.
   */
  checkHealth(): Promise<HealthCheckOutcome<HttpPoolHealthDetails>> {
    return this.health.run();
  }

  /**
   * Stops new requests, lets in-flight ones finish for up to `shutdownTimeoutMs`, then destroys
   * the remaining sockets. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const started = Date.now();
      await Promise.all([
        this.transport.close(this.config.shutdownTimeoutMs),
        this.probeTransport.close(this.config.shutdownTimeoutMs),
      ]);
      this.refreshGauges();
      this.stopGaugeRefresh();
      this.logger.log(`closed in ${Date.now() - started} ms`);
    })();
    return this.closing;
  }

  private refreshGauges(): void {
    this.recorder.refreshSockets(this.transport.origins(), this.transport.pendingByOrigin());
  }

  private async check(signal: AbortSignal): Promise<HttpPoolHealthDetails> {
    const url = this.config.healthUrl;
    const open = this.breakers.open();
    if (open.length > 0) {
      // An upstream whose circuit is open is down for this client, whatever a probe would say.
      throw this.breakers.of(open[0] ?? '').unavailable();
    }
    if (!url) return { mode: 'pool', stats: this.stats() };
    const response = await this.probe.get<unknown>(url, {
      signal,
      timeout: this.config.healthTimeoutMs,
      responseType: 'arraybuffer',
      validateStatus: (status) => status < 400,
    });
    return { mode: 'url', statusCode: response.status, stats: this.stats() };
  }
}
