import { performance } from 'node:perf_hooks';

import {
  type HealthCheckOutcome,
  PoolLifecycle,
  type PoolMetrics,
  type PoolRegistry,
  redact,
  redactUrl,
  SharedHealthCheck,
  type ShutdownCoordinator,
  withTimeout,
} from '@nest-pools/core';
import { Logger } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';

import { type RedisPoolConfig } from './config/index.js';
import { buildMainClientOptions, parseRedisUrl } from './config/redis-pool.client-options.js';
import { connectFailedMessage } from './errors/redis-pool.messages.js';
import { RedisPoolConnectError } from './errors/redis-pool-connect.error.js';
import type {
  RedisHealthDetails,
  RedisPoolStats,
} from './interfaces/redis-pool-stats.interface.js';
import { RedisCommandTimer } from './redis-command-metrics.js';
import { RedisDedicatedPool } from './redis-dedicated.pool.js';
import { RedisPoolBreaker } from './redis-pool.breaker.js';
import {
  createClientGuard,
  disconnectAndWait,
  GuardedCluster,
  GuardedRedis,
  type RedisPoolClient,
} from './redis-pool.client.js';
import {
  REDIS_DB_SYSTEM,
  REDIS_POOL_LOGGER_CONTEXT,
  REDIS_SHUTDOWN_ORDER,
  REDIS_SHUTDOWN_PHASE,
} from './redis-pool.constants.js';
import { INFO_FIELDS, readInfoFields } from './redis-pool.info.js';
import { RedisPoolMetrics } from './redis-pool.metrics.js';
import { keepSocketErrorsHandled } from './redis-socket-errors.js';
import { RedisSubscriberConnection } from './redis-subscriber.js';

/** How long a health outcome is reused by concurrent and back-to-back probes. */
const HEALTH_CACHE_TTL_MS = 250;
/** At most one warning per this interval while the main client keeps failing to connect. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * One named Redis pool: the main client, the dedicated-connection pool, health checks, metrics
 * and shutdown. Created by `RedisPoolModule`, reached through `RedisPoolService`.
 */
export class RedisPoolInstance extends PoolLifecycle {
  /** The main (multiplexed) client. */
  readonly client: RedisPoolClient;
  /** The dedicated-connection pool. */
  readonly dedicated: RedisDedicatedPool;
  /** The long-lived pub/sub connection, opened on first use. */
  readonly subscriber: RedisSubscriberConnection;
  private readonly logger: Logger;
  /** The main client's circuit breaker (`REDIS_BREAKER_*`). */
  readonly circuit: RedisPoolBreaker;
  private readonly metrics: RedisPoolMetrics;
  private readonly healthChecks = new Map<string, SharedHealthCheck<RedisHealthDetails>>();
  private reconnects = 0;
  private lastErrorLogAt = 0;
  private everReady = false;
  private closing: Promise<void> | undefined;
  private closed = false;
  private finished = false;
  private pinger: NodeJS.Timeout | undefined;

  /**
   * @param name Pool name.
   * @param config The pool's resolved configuration.
   * @param poolMetrics The application's shared pool metrics.
   * @param registry Where the pool is found by name (`RedisPoolService`).
   * @param coordinator Shutdown coordinator, when the application has one.
   */
  constructor(
    readonly name: string,
    /** Parsed and validated configuration (the pool's `REDIS_POOL_CONFIG` provider). */
    readonly config: RedisPoolConfig,
    poolMetrics: PoolMetrics,
    private readonly registry: PoolRegistry<RedisPoolInstance>,
    coordinator: ShutdownCoordinator | undefined,
  ) {
    super({
      name,
      system: REDIS_DB_SYSTEM,
      phase: REDIS_SHUTDOWN_PHASE,
      order: REDIS_SHUTDOWN_ORDER,
      registry,
      coordinator,
    });
    this.logger = new Logger(`${REDIS_POOL_LOGGER_CONTEXT}(${name})`);
    this.metrics = new RedisPoolMetrics(poolMetrics, name);
    this.circuit = new RedisPoolBreaker(config, poolMetrics);
    const commandTimer = config.operationMetrics
      ? new RedisCommandTimer(poolMetrics, name, parseRedisUrl(config.url).db ?? 0)
      : undefined;
    this.client = this.createMainClient(commandTimer);
    this.subscriber = new RedisSubscriberConnection(this.config, this.metrics, this.logger);
    this.dedicated = new RedisDedicatedPool(this.config, this.metrics, this.logger, {
      changed: () => this.publishCounts(),
      commandTimer,
    });
    this.metrics.limits(this.config.maxConnections, this.config.minConnections);
    this.publishCounts();
  }

  /** Where the pool connects, without secrets (for logs and errors). */
  get target(): string {
    switch (this.config.topology) {
      case 'sentinel':
        return `sentinel master "${this.config.sentinelName ?? ''}" via ${(this.config.sentinels ?? []).map((s) => `${s.host}:${s.port}`).join(',')}`;
      case 'cluster':
        return `cluster ${(this.config.clusterNodes ?? []).map((n) => `${n.host}:${n.port}`).join(',')}`;
      default:
        return redactUrl(this.config.url);
    }
  }

  /** Starts connecting; with `failFast`, waits for the connection and fails bootstrap without it. */
  protected async start(): Promise<void> {
    if (this.config.healthCheckIntervalMs > 0) {
      // A periodic PING keeps the health result fresh and surfaces a silently dead socket
      // (the socket timeout then forces a reconnect) before user traffic runs into it.
      this.pinger = setInterval(() => this.backgroundPing(), this.config.healthCheckIntervalMs);
      this.pinger.unref();
    }
    const connecting = this.startConnecting();
    if (!this.config.failFast) {
      // Boot never waits for Redis: the client keeps reconnecting and health reports it down.
      connecting.catch((err: unknown) =>
        this.logger.warn(
          `Redis at ${this.target} is not reachable yet (${redact(String(err))}); the ` +
            'application starts anyway and the client keeps reconnecting in the background.',
        ),
      );
      return;
    }
    try {
      await withTimeout(connecting, this.config.connectTimeoutMs, 'connecting to Redis', {
        poolName: this.name,
        limit: 'connectTimeoutMs',
      });
    } catch (err) {
      connecting.catch(() => undefined);
      await this.close();
      throw new RedisPoolConnectError(
        connectFailedMessage({
          poolName: this.name,
          target: this.target,
          timeoutMs: this.config.connectTimeoutMs,
          reason: redact(err instanceof Error ? err.message : String(err)),
        }),
        {
          poolName: this.name,
          context: { target: this.target, connectTimeoutMs: this.config.connectTimeoutMs },
          cause: err,
        },
      );
    }
  }

  /**
   * Drains the dedicated pool, sends QUIT on the main client (waiting at most
   * `shutdownTimeoutMs`), then disconnects. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  /** The pool's figures: dedicated connections and main client state. */
  stats(): RedisPoolStats {
    return {
      name: this.name,
      topology: this.config.topology,
      ...this.dedicated.stats(),
      main: {
        status: this.client.status,
        connected: this.client.status === 'ready',
        reconnects: this.reconnects,
        offlineQueue:
          (this.client as unknown as { offlineQueue?: { length: number } }).offlineQueue?.length ??
          0,
      },
      breaker: this.circuit.breaker.state,
    };
  }

  /**
   * PING (plus INFO / CLUSTER INFO when asked) bounded by `timeoutMs`; concurrent callers share
   * one check and its result is reused for a moment. Never rejects.
   * @param timeoutMs Time limit; the pool's `healthTimeoutMs` when omitted.
   * @param info Whether to read INFO fields too.
   */
  checkHealth(timeoutMs?: number, info = false): Promise<HealthCheckOutcome<RedisHealthDetails>> {
    return this.healthCheck(timeoutMs ?? this.config.healthTimeoutMs, info).run();
  }

  private healthCheck(timeoutMs: number, info: boolean): SharedHealthCheck<RedisHealthDetails> {
    const key = `${timeoutMs}:${info}`;
    let check = this.healthChecks.get(key);
    if (check === undefined) {
      check = new SharedHealthCheck<RedisHealthDetails>(() => this.probe(info), {
        timeoutMs,
        cacheTtlMs: Math.min(HEALTH_CACHE_TTL_MS, timeoutMs),
        label: info ? 'Redis PING + INFO' : 'Redis PING',
        poolName: this.name,
      });
      this.healthChecks.set(key, check);
    }
    return check;
  }

  /** A fresh PING (never a cached result), which also refreshes what health probes read. */
  private backgroundPing(): void {
    const check = this.healthCheck(this.config.healthTimeoutMs, false);
    check.invalidate();
    void check.run();
  }

  /**
   * Connects, unless a command sent before module init (e.g. from another provider's
   * constructor) already made ioredis connect; then waits for that connection instead.
   */
  private startConnecting(): Promise<void> {
    const client = this.client;
    if (client.status === 'wait') return client.connect();
    if (client.status === 'ready') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        client.off('error', onError);
        resolve();
      };
      const onError = (err: unknown): void => {
        client.off('ready', onReady);
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      client.once('ready', onReady);
      client.once('error', onError);
    });
  }

  private async probe(info: boolean): Promise<RedisHealthDetails> {
    const client = this.client;
    if (client.status !== 'ready') {
      // Queuing a PING behind a dead connection would only wait for the timeout.
      throw new Error(`not connected to ${this.target} (client status "${client.status}")`);
    }
    const started = performance.now();
    await client.ping();
    const details: RedisHealthDetails = {
      topology: this.config.topology,
      pingMs: Math.round((performance.now() - started) * 100) / 100,
    };
    if (client instanceof Cluster) {
      const text = String(await client.cluster('INFO'));
      details.cluster = readInfoFields(text, [
        'cluster_state',
        'cluster_slots_ok',
        'cluster_known_nodes',
        'cluster_size',
      ]);
      if (details.cluster['cluster_state'] !== 'ok') {
        throw new Error(`cluster_state is ${details.cluster['cluster_state'] ?? 'unknown'}`);
      }
    }
    if (info) {
      const text = String(await client.info());
      details.info = readInfoFields(text, INFO_FIELDS);
    }
    return details;
  }

  private createMainClient(commandTimer: RedisCommandTimer | undefined): RedisPoolClient {
    const built = buildMainClientOptions(this.config);
    const guard = createClientGuard(
      this.name,
      this.config.offlineQueueMax,
      (err) => {
        this.metrics.error(err);
        this.circuit.failed(err);
      },
      (command) => this.circuit.refused(command),
      commandTimer,
    );
    const client =
      built.topology === 'cluster'
        ? new GuardedCluster(built.nodes, built.options, guard)
        : new GuardedRedis(built.options, guard);
    keepSocketErrorsHandled(client);
    client.on('error', (err: unknown) => this.onClientError(err));
    client.on('reconnecting', () => {
      this.reconnects += 1;
      this.metrics.reconnect();
      this.publishCounts();
    });
    client.on('connect', () => {
      // Any reply (a WRONGTYPE too) shows the server is there: one listener per socket.
      if (client instanceof Redis) client.stream.on('data', this.circuit.alive);
    });
    client.on('ready', () => {
      this.circuit.breaker.recover();
      if (this.everReady) {
        this.logger.log(`Reconnected to ${this.target}.`);
      }
      this.everReady = true;
      this.publishCounts();
    });
    client.on('close', () => this.publishCounts());
    return client;
  }

  private onClientError(err: unknown): void {
    this.metrics.error(err);
    const now = Date.now();
    if (now - this.lastErrorLogAt < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLogAt = now;
    this.logger.warn(
      `Redis connection error at ${this.target}: ${redact(err instanceof Error ? err.message : String(err))} ` +
        `(client status "${this.client.status}"; reconnecting with backoff up to ${this.config.retryMaxDelayMs} ms).`,
    );
  }

  private publishCounts(): void {
    // After close the label sets are forgotten; late socket events must not bring them back.
    if (this.closed) return;
    const stats = this.dedicated.stats();
    const client = this.client as RedisPoolClient | undefined;
    let main = 0;
    if (client?.status === 'ready') main = client instanceof Cluster ? client.nodes().length : 1;
    this.metrics.connections({
      idle: stats.available,
      used: stats.inUse + main,
      pending: stats.pending,
    });
  }

  describeOpen(): string[] {
    if (this.finished) return [];
    const stats = this.stats();
    const open: string[] = [];
    if (stats.main.status !== 'end')
      open.push(`Redis pool "${this.name}" main client (${stats.main.status})`);
    if (this.subscriber.isOpen) open.push(`Redis pool "${this.name}" subscriber`);
    if (stats.inUse > 0)
      open.push(`Redis pool "${this.name}": ${stats.inUse} dedicated connection(s) still lent`);
    return open;
  }

  private async closeOnce(): Promise<void> {
    if (this.pinger) clearInterval(this.pinger);
    const timeoutMs = this.config.shutdownTimeoutMs;
    await this.dedicated.close(timeoutMs);
    await this.subscriber.close(timeoutMs);
    this.closed = true;
    if (this.client.status === 'ready') {
      await withTimeout(this.client.quit(), timeoutMs, 'QUIT').catch((err: unknown) =>
        this.logger.warn(`QUIT did not finish (${redact(String(err))}); disconnecting.`),
      );
    }
    await disconnectAndWait(this.client, timeoutMs);
    this.finished = true;
    this.metrics.forget();
    this.registry.unregister(this.name, this);
  }
}
