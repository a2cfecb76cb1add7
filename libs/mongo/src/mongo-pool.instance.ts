import { setTimeout as sleep } from 'node:timers/promises';

import {
  backoffDelay,
  type HealthCheckOutcome,
  PoolClosedError,
  poolClosedMessage,
  PoolError,
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
import mongoose, { type Connection, type mongo } from 'mongoose';

import { type MongoPoolConfig } from './config/index.js';
import { toMongoDriverOptions } from './config/mongo-pool.driver-options.js';
import { MongoPoolConnectError } from './errors/mongo-pool-connect.error.js';
import type {
  MongoPoolHealthDetails,
  MongoPoolState,
  MongoPoolStats,
  MongoServerConnections,
} from './interfaces/mongo-pool-options.interface.js';
import { MongoCommandMetrics } from './mongo-command-metrics.js';
import { readServerConnections, warmUpPool } from './mongo-pool.admin.js';
import { MongoPoolBreaker } from './mongo-pool.breaker.js';
import {
  MONGO_DB_SYSTEM,
  MONGO_HEALTH_CACHE_TTL_MS,
  MONGO_RECONNECT_BASE_DELAY_MS,
  MONGO_RECONNECT_MAX_DELAY_MS,
  MONGO_SHUTDOWN_ORDER,
  MONGO_SHUTDOWN_PHASE,
} from './mongo-pool.constants.js';
import { MongoHealthProbe } from './mongo-pool.health-probe.js';
import { formatLeakReport, MongoLeakDetector } from './mongo-pool.leak-detector.js';
import { MongoPoolMonitor } from './mongo-pool.metrics.js';

/** mongoose `Connection.readyState` of an open connection. */
const CONNECTED = mongoose.ConnectionStates.connected;

/**
 * One MongoDB pool: the driver's `MongoClient` (which owns the connection pool), the mongoose
 * `Connection` on top of it, the CMAP monitor, leak detector and shared health check.
 *
 * The client is created here rather than by `mongoose.createConnection(uri)` so the CMAP
 * listeners are attached before the first socket opens, and so a failed first connection can be
 * retried in the background on the same client: the mongoose connection exists from the start
 * (models can be registered, commands buffer) and is bound to the client once it connects.
 */
export class MongoPoolInstance extends PoolLifecycle {
  /** The mongoose connection users inject. */
  readonly connection: Connection;
  /** The driver client that owns the pool. */
  readonly client: mongo.MongoClient;

  /** The pool's circuit breaker (`MONGODB_BREAKER_*`). */
  readonly circuit: MongoPoolBreaker;
  private readonly logger: Logger;
  private readonly monitor: MongoPoolMonitor;
  /** Per-command latency (`MONGODB_OPERATION_METRICS`). */
  private readonly commands: MongoCommandMetrics | undefined;
  private readonly probe: MongoHealthProbe;
  private readonly leaks: MongoLeakDetector | undefined;
  private readonly health: SharedHealthCheck<MongoPoolHealthDetails>;
  private readonly stopConnecting = new AbortController();
  private leaksDetected = 0;
  private everConnected = false;
  private lastConnectError: string | undefined;
  private closing: Promise<void> | undefined;
  private warmUpRun: Promise<void> | undefined;

  /**
   * @param config the pool's resolved configuration (its `MONGO_POOL_CONFIG` provider)
   * @param metrics the application's pool metrics
   * @param registry where the pool is found by name (`MongoPoolService`)
   * @param coordinator the application's shutdown coordinator, when it has one
   */
  constructor(
    readonly config: MongoPoolConfig,
    private readonly metrics: PoolMetrics,
    registry: PoolRegistry<MongoPoolInstance>,
    coordinator?: ShutdownCoordinator,
  ) {
    super({
      name: config.name,
      system: MONGO_DB_SYSTEM,
      phase: MONGO_SHUTDOWN_PHASE,
      order: MONGO_SHUTDOWN_ORDER,
      shutdownTimeoutMs: config.shutdownTimeoutMS,
      registry,
      coordinator,
    });
    this.logger = new Logger(`MongoPool(${config.name})`);
    const driverOptions = toMongoDriverOptions(config);
    if (config.leakDetectionThresholdMS > 0) {
      this.leaks = new MongoLeakDetector({
        poolName: config.name,
        thresholdMs: config.leakDetectionThresholdMS,
        captureStacks: config.leakDetectionStacks,
        onLeak: (report) => {
          this.leaksDetected += 1;
          this.monitor.leak();
          this.logger.warn(formatLeakReport(report));
        },
      });
    }
    this.monitor = new MongoPoolMonitor(config.name, metrics, config, this.leaks);
    this.circuit = new MongoPoolBreaker(config, metrics);
    this.probe = new MongoHealthProbe(
      config.url,
      // The probe's pings are health, not application operations.
      { ...driverOptions, monitorCommands: false },
      this.circuit,
    );
    if (config.operationMetrics) {
      this.commands = new MongoCommandMetrics(metrics, config.name, (m) => this.logger.warn(m));
    }
    this.client = new mongoose.mongo.MongoClient(config.url, {
      ...driverOptions,
      ...this.commands?.clientOptions(),
    });
    this.monitor.attach(this.client);
    this.commands?.attach(this.client);
    this.circuit.attach(this.client);
    this.connection = mongoose.createConnection();
    this.connection.plugin(this.circuit.plugin);
    this.connection.on('reconnected', () => {
      this.monitor.reconnected();
      this.logger.log('Reconnected to MongoDB.');
    });
    this.connection.on('disconnected', () => {
      if (this.everConnected && this.closing === undefined) {
        this.logger.warn('Lost the connection to MongoDB; the driver reconnects by itself.');
      }
    });
    this.health = new SharedHealthCheck((signal) => this.ping(signal), {
      timeoutMs: config.healthTimeoutMS,
      cacheTtlMs: MONGO_HEALTH_CACHE_TTL_MS,
      label: 'mongodb ping',
      poolName: config.name,
    });
  }

  /** Pool name. */
  get name(): string {
    return this.config.name;
  }

  /**
   * Starts connecting. With `failFast` it waits for the first connection and throws a
   * {@link MongoPoolConnectError} after `serverSelectionTimeoutMS`; otherwise it returns at once
   * and keeps trying in the background until connected or closed. Run while the module
   * initialises, never in the provider factory: when resolving another provider fails, Nest runs
   * no lifecycle hook, and a client started earlier would keep connecting.
   */
  async start(): Promise<void> {
    if (this.config.failFast) {
      try {
        await this.connectOnce();
      } catch (cause) {
        await this.close();
        throw new MongoPoolConnectError({
          poolName: this.name,
          url: this.config.url,
          timeoutMs: this.config.serverSelectionTimeoutMS,
          cause,
        });
      }
      return;
    }
    void this.connectInBackground();
  }

  /** Lifecycle state. */
  state(): MongoPoolState {
    if (this.closing !== undefined) return 'closed';
    if (this.connection.readyState === CONNECTED) return 'connected';
    return this.everConnected ? 'disconnected' : 'connecting';
  }

  /**
   * Pings the server through the pool (shared by concurrent callers, cached briefly, bounded by
   * `healthTimeoutMS`). Never rejects.
   */
  checkHealth(): Promise<HealthCheckOutcome<MongoPoolHealthDetails>> {
    return this.health.run();
  }

  /** Resolves once the warm-up that follows the first connection has finished. */
  async warmedUp(): Promise<void> {
    await this.warmUpRun;
  }

  /** Driver-side snapshot plus `serverStatus.connections` when it can be read. */
  async stats(): Promise<MongoPoolStats> {
    const counts = this.monitor.counts();
    const topology = this.monitor.topologySnapshot();
    const stats: MongoPoolStats = {
      name: this.name,
      state: this.state(),
      current: counts.open,
      available: counts.idle,
      active: counts.used,
      totalCreated: counts.totalCreated,
      waiting: counts.waiting,
      maxPoolSize: this.config.maxPoolSize,
      minPoolSize: this.config.minPoolSize,
      checkOutTimeouts: counts.checkOutTimeouts,
      poolCleared: counts.cleared,
      leaksDetected: this.leaksDetected,
      topologyType: topology.type,
      knownServers: topology.servers.length,
      server: null,
    };
    try {
      stats.server = await this.serverConnections();
    } catch (error) {
      stats.serverStatusError = redact(error instanceof Error ? error.message : String(error));
    }
    return stats;
  }

  /** What is still open, for the shutdown coordinator's deadline report. */
  describeOpen(): string[] {
    if (this.closing === undefined && this.state() === 'connecting') {
      return [`still connecting to ${redactUrl(this.config.url)}`];
    }
    const { open, used } = this.monitor.counts();
    return open === 0 ? [] : [`${open} connection(s) open, ${used} checked out`];
  }

  /**
   * Closes the client and the mongoose connection, bounded by `shutdownTimeoutMS`. Idempotent:
   * every caller awaits the same close.
   */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  protected override afterShutdown(): void {
    this.metrics.forgetPool(this.name);
  }

  private async closeOnce(): Promise<void> {
    this.stopConnecting.abort();
    this.leaks?.stop();
    try {
      await withTimeout(
        (async () => {
          await this.connection.destroy();
          await Promise.all([this.client.close(), this.probe.close()]);
        })(),
        this.config.shutdownTimeoutMS,
        `MongoDB pool "${this.name}" did not close within ${this.config.shutdownTimeoutMS} ms`,
        { poolName: this.name, limit: 'shutdownTimeoutMS' },
      );
    } catch (error) {
      this.logger.warn(
        `${redact(error instanceof Error ? error.message : String(error))}; in-flight ` +
          'operations are abandoned. Raise MONGODB_SHUTDOWN_TIMEOUT_MS if they need more time.',
      );
    } finally {
      this.monitor.detach();
      this.commands?.detach();
    }
  }

  private async connectOnce(): Promise<void> {
    await this.client.connect();
    if (this.stopConnecting.signal.aborted) return;
    this.connection.setClient(this.client);
    this.everConnected = true;
    this.lastConnectError = undefined;
    this.logger.log(`Connected to ${redactUrl(this.config.url)}.`);
    if (this.config.warmUp && this.config.minPoolSize > 0) {
      this.warmUpRun = this.warmUp();
    }
  }

  private async connectInBackground(): Promise<void> {
    for (let attempt = 1; !this.stopConnecting.signal.aborted; attempt += 1) {
      try {
        await this.connectOnce();
        return;
      } catch (error) {
        if (this.stopConnecting.signal.aborted) return;
        this.monitor.error('connect_failed');
        this.lastConnectError = redact(error instanceof Error ? error.message : String(error));
        const delay = backoffDelay(attempt, {
          baseMs: MONGO_RECONNECT_BASE_DELAY_MS,
          maxMs: MONGO_RECONNECT_MAX_DELAY_MS,
        });
        const message =
          `MongoDB at ${redactUrl(this.config.url)} is not reachable yet (${this.lastConnectError}); ` +
          `attempt ${attempt}, retrying in ${delay} ms. Readiness reports this pool down until it ` +
          'connects.';
        // The first failure and every tenth after it are worth a warning; the rest is noise.
        if (attempt % 10 === 1) this.logger.warn(message);
        else this.logger.debug(message);
        try {
          await sleep(delay, undefined, { signal: this.stopConnecting.signal });
        } catch {
          return;
        }
      }
    }
  }

  private async warmUp(): Promise<void> {
    await warmUpPool(this.client, {
      target: this.config.minPoolSize,
      deadline: Date.now() + this.config.connectTimeoutMS,
      open: () => this.monitor.counts().open,
      closing: () => this.closing !== undefined,
    });
  }

  private async ping(signal: AbortSignal): Promise<MongoPoolHealthDetails> {
    if (this.closing !== undefined) {
      throw new PoolClosedError(poolClosedMessage({ poolName: this.name, operation: 'ping' }), {
        poolName: this.name,
      });
    }
    if (this.connection.readyState !== CONNECTED && !this.everConnected) {
      const why = `not connected yet${this.lastConnectError ? `: ${this.lastConnectError}` : ''}`;
      throw new PoolError(`MongoDB pool "${this.name}" is down (${why}).`, {
        poolName: this.name,
      });
    }
    if (this.circuit.breaker.isOpen) throw this.circuit.breaker.unavailable();
    if (this.connection.readyState === CONNECTED) {
      // On the probe's own connection: a saturated pool must not make its health wait.
      await this.probe.ping(signal);
      return this.healthDetails();
    }
    // After a loss the ping goes through the pool's client: its server selection makes the
    // driver re-check the server at once (minHeartbeatFrequencyMS) instead of at the next
    // heartbeat, so readiness recovers within a second of the server's return rather than
    // MONGODB_HEARTBEAT_FREQUENCY_MS. The pool was cleared by the loss, so nothing queues ahead.
    try {
      await this.client.db('admin').command({ ping: 1 }, { signal });
      this.circuit.recover();
    } catch (error) {
      this.circuit.failure();
      throw new PoolError(
        `MongoDB pool "${this.name}" is down (the driver lost the server and is reconnecting).`,
        { poolName: this.name, cause: error },
      );
    }
    return this.healthDetails();
  }

  /** State and driver-side counts as the health indicator reports them. */
  healthDetails(): MongoPoolHealthDetails {
    const counts = this.monitor.counts();
    const { type, primary } = this.monitor.topologySnapshot();
    return {
      state: this.state(),
      current: counts.open,
      available: counts.idle,
      active: counts.used,
      waiting: counts.waiting,
      maxPoolSize: this.config.maxPoolSize,
      topologyType: type,
      ...(primary !== undefined ? { primary } : {}),
      saturated: counts.waiting > 0 || counts.used >= this.config.maxPoolSize,
      breaker: this.circuit.breaker.state,
    };
  }

  private async serverConnections(): Promise<MongoServerConnections> {
    if (this.connection.readyState !== CONNECTED) {
      throw new Error(`pool is ${this.state()}`);
    }
    return readServerConnections(this.client, this.config.healthTimeoutMS);
  }
}
