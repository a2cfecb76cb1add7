import { performance } from 'node:perf_hooks';

import {
  PoolClosedError,
  poolClosedMessage,
  PoolTimeoutError,
  poolTimeoutMessage,
  withTimeout,
} from '@nest-pools/core';
import type { LoggerService } from '@nestjs/common';
import { createPool, type Pool } from 'generic-pool';

import { type RedisPoolConfig } from './config/index.js';
import {
  buildDedicatedClientOptions,
  type MainClientOptions,
  parseRedisUrl,
} from './config/redis-pool.client-options.js';
import { leakMessage } from './errors/redis-pool.messages.js';
import type { RedisCommandTimer } from './redis-command-metrics.js';
import {
  cleanForReuse,
  type CleanTarget,
  DedicatedCluster,
  DedicatedRedis,
  type ObservedConnection,
} from './redis-connection-state.js';
import { disconnectAndWait, type RedisPoolClient } from './redis-pool.client.js';
import type { RedisPoolMetrics } from './redis-pool.metrics.js';
import { keepSocketErrorsHandled } from './redis-socket-errors.js';

/** Figures of the dedicated-connection pool (the seeds' names in camelCase). */
export interface RedisDedicatedPoolStats {
  /** Dedicated connections open (idle + in use). */
  created: number;
  /** Open and idle. */
  available: number;
  /** Lent out. */
  inUse: number;
  /** Acquires waiting for a connection. */
  pending: number;
  /** Upper bound (`REDIS_MAX_CONNECTIONS`). */
  max: number;
  /** Kept open even when idle (`REDIS_MIN_CONNECTIONS`). */
  min: number;
  /** Connections reported as held past the leak threshold since start. */
  leaksDetected: number;
  /** Releases that reset state a borrower left (WATCH, MULTI, SELECT, CLIENT SETNAME). */
  resetOnRelease: number;
  /** Releases that closed the connection instead (subscriber mode, MONITOR, reply pending…). */
  destroyedOnRelease: number;
}

type DedicatedConnection = RedisPoolClient & ObservedConnection;

interface Lease {
  readonly acquiredAt: number;
  readonly stack: string | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** Callbacks the dedicated pool uses to report to its owner. */
export interface RedisDedicatedPoolHooks {
  /** Re-publishes the pool's connection gauges after a change. */
  changed(): void;
  /** Times every command of every dedicated connection (`REDIS_OPERATION_METRICS`). */
  readonly commandTimer?: RedisCommandTimer;
}

/**
 * Bounded pool of dedicated Redis connections (generic-pool) for what cannot share the main
 * client's socket: blocking commands, WATCH/MULTI/EXEC, SUBSCRIBE. Acquire timeout, idle eviction,
 * PING validation on borrow, leak detection, metrics.
 */
export class RedisDedicatedPool {
  private readonly pool: Pool<DedicatedConnection>;
  private readonly leases = new Map<DedicatedConnection, Lease>();
  /** Built once: with `tlsCaFile` they hold the CA file's contents, read at construction. */
  private readonly clientOptions: MainClientOptions;
  /** What a reset on release restores. */
  private readonly cleanTarget: CleanTarget;
  /** Connections to cut without QUIT: a tainted socket may never answer it in order. */
  private readonly cut = new WeakSet<RedisPoolClient>();
  private leaks = 0;
  private resets = 0;
  private destroys = 0;
  private lastCreateError: unknown;
  private closing: Promise<void> | undefined;
  /** Set once the pool is cleared: generic-pool's `available` still counts destroyed objects. */
  private closed = false;
  /** Rejects every acquire still waiting when {@link close} starts. */
  private readonly waiters = new Set<(err: Error) => void>();

  /**
   * @param config The parsed pool configuration.
   * @param metrics The pool's metrics.
   * @param logger Logger of the pool.
   * @param hooks Change notifications for the owner.
   */
  constructor(
    private readonly config: RedisPoolConfig,
    private readonly metrics: RedisPoolMetrics,
    private readonly logger: LoggerService,
    private readonly hooks: RedisDedicatedPoolHooks,
  ) {
    this.clientOptions = buildDedicatedClientOptions(config);
    const built = this.clientOptions;
    this.cleanTarget = {
      db: parseRedisUrl(config.url).db ?? 0,
      connectionName:
        (built.topology === 'cluster' ? built.options.redisOptions : built.options)
          ?.connectionName ?? undefined,
      timeoutMs: config.healthTimeoutMs,
    };
    const idle = config.idleTimeoutMs;
    this.pool = createPool<DedicatedConnection>(
      {
        create: () => this.create(),
        destroy: (conn) => this.destroyConnection(conn),
        validate: (conn) => this.validate(conn),
      },
      {
        max: config.maxConnections,
        min: config.minConnections,
        acquireTimeoutMillis: config.acquireTimeoutMs > 0 ? config.acquireTimeoutMs : undefined,
        testOnBorrow: true,
        // The most recently used connection first: the rest stay idle long enough to be evicted.
        fifo: false,
        idleTimeoutMillis: idle > 0 ? idle : Number.MAX_SAFE_INTEGER,
        evictionRunIntervalMillis: idle > 0 ? Math.max(100, Math.min(idle, 30_000)) : 0,
        numTestsPerEvictionRun: config.maxConnections,
        autostart: true,
      },
    );
    this.pool.on('factoryCreateError', (err: unknown) => {
      this.lastCreateError = err;
      this.metrics.error(err);
      this.hooks.changed();
    });
  }

  /** Current figures. */
  stats(): RedisDedicatedPoolStats {
    return {
      created: this.pool.size,
      available: this.closed ? 0 : this.pool.available,
      inUse: this.pool.borrowed,
      pending: this.pool.pending,
      max: this.pool.max,
      min: this.pool.min,
      leaksDetected: this.leaks,
      resetOnRelease: this.resets,
      destroyedOnRelease: this.destroys,
    };
  }

  /**
   * Lends a dedicated connection, validated with PING. Waits at most `acquireTimeoutMs`.
   * @throws PoolTimeoutError naming the pool and `REDIS_MAX_CONNECTIONS` when none frees up in time.
   * @throws PoolClosedError once the pool is shutting down.
   */
  async acquire(): Promise<RedisPoolClient> {
    if (this.closing) throw this.closedError();
    const started = performance.now();
    let conn: DedicatedConnection;
    try {
      const acquiring = this.pool.acquire();
      // Publish now, so a caller left waiting shows in the pending-requests gauge.
      this.hooks.changed();
      conn = await this.unlessClosed(acquiring);
    } catch (err) {
      if (err instanceof PoolClosedError) {
        this.hooks.changed();
        throw err;
      }
      this.hooks.changed();
      throw this.acquireError(err);
    }
    this.metrics.waited((performance.now() - started) / 1000);
    this.lease(conn);
    conn.leaseState.begin();
    this.hooks.changed();
    return conn;
  }

  /**
   * Takes a connection back clean (see {@link cleanForReuse}): state its borrower left that can
   * be undone (WATCH, MULTI, SELECT, CLIENT SETNAME) is reset; a connection that cannot be made
   * clean (disconnected, subscriber or MONITOR mode, a reply still due) is closed instead.
   * @returns false when the connection was not lent by this pool.
   */
  async release(conn: RedisPoolClient): Promise<boolean> {
    const dedicated = conn as DedicatedConnection;
    const lease = this.leases.get(dedicated);
    if (lease === undefined) return false;
    this.leases.delete(dedicated);
    if (lease.timer) clearTimeout(lease.timer);
    this.metrics.used((performance.now() - lease.acquiredAt) / 1000);
    const outcome = await cleanForReuse(dedicated, this.cleanTarget);
    if (outcome.action === 'destroy') {
      this.destroys += 1;
      this.cut.add(conn);
      await this.pool.destroy(dedicated);
    } else {
      if (outcome.action === 'reset') this.resets += 1;
      await this.pool.release(dedicated);
    }
    this.hooks.changed();
    return true;
  }

  /** Whether this pool lent `conn` and has not had it back yet. */
  owns(conn: RedisPoolClient): boolean {
    return this.leases.has(conn as DedicatedConnection);
  }

  /**
   * Stops lending, waits up to `timeoutMs` for lent connections to come back, then closes every
   * connection (still-lent ones included). Idempotent.
   */
  close(timeoutMs: number): Promise<void> {
    this.closing ??= this.drain(timeoutMs);
    return this.closing;
  }

  /**
   * Waits for `acquiring`, unless {@link close} starts first: generic-pool would still serve
   * acquires queued before its drain, lending after close. A connection that arrives for a
   * rejected waiter goes straight back, so the drain can finish.
   */
  private unlessClosed(acquiring: Promise<DedicatedConnection>): Promise<DedicatedConnection> {
    return new Promise<DedicatedConnection>((resolve, reject) => {
      let rejected = false;
      const onClose = (err: Error) => {
        rejected = true;
        reject(err);
      };
      this.waiters.add(onClose);
      acquiring.then(
        (conn) => {
          this.waiters.delete(onClose);
          if (rejected) void this.pool.release(conn).catch(() => undefined);
          else resolve(conn);
        },
        (err: unknown) => {
          this.waiters.delete(onClose);
          if (!rejected) reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private async drain(timeoutMs: number): Promise<void> {
    const drained = this.pool.drain();
    for (const reject of this.waiters) reject(this.closedError());
    this.waiters.clear();
    try {
      await withTimeout(drained, timeoutMs, 'draining dedicated Redis connections');
    } catch {
      // Still lent after the deadline: close them so the drain (and the process) can finish.
      for (const [conn, lease] of this.leases) {
        if (lease.timer) clearTimeout(lease.timer);
        this.leases.delete(conn);
        // Cut, not QUIT: a lent connection may sit in a blocking command that QUIT would wait on.
        await disconnectAndWait(conn, timeoutMs);
        await this.pool.destroy(conn).catch(() => undefined);
      }
      await drained;
    }
    await this.pool.clear();
    this.closed = true;
    this.hooks.changed();
  }

  private lease(conn: DedicatedConnection): void {
    const threshold = this.config.leakDetectionThresholdMs;
    const lease: Lease = {
      acquiredAt: performance.now(),
      // Capturing a stack costs microseconds; only pay for it when someone will read it.
      stack:
        threshold > 0
          ? new Error('acquired here').stack?.split('\n').slice(2).join('\n')
          : undefined,
      timer: undefined,
    };
    if (threshold > 0) {
      lease.timer = setTimeout(() => this.reportLeak(lease), threshold);
      lease.timer.unref();
    }
    this.leases.set(conn, lease);
  }

  private reportLeak(lease: Lease): void {
    this.leaks += 1;
    this.metrics.leak();
    this.logger.warn(
      leakMessage({
        poolName: this.config.name,
        heldMs: Math.round(performance.now() - lease.acquiredAt),
        thresholdMs: this.config.leakDetectionThresholdMs,
        stack: lease.stack,
      }),
    );
  }

  private async create(): Promise<DedicatedConnection> {
    const started = performance.now();
    const built = this.clientOptions;
    // Copies, so that no two connections share an options object.
    const conn: DedicatedConnection =
      built.topology === 'cluster'
        ? new DedicatedCluster([...built.nodes], { ...built.options })
        : new DedicatedRedis({ ...built.options });
    conn.commandTimer = this.hooks.commandTimer;
    keepSocketErrorsHandled(conn);
    // Errors surface through the commands that hit them; the listener keeps ioredis from
    // printing "Unhandled error event" for every broken dedicated socket.
    conn.on('error', (err: unknown) => this.metrics.error(err));
    try {
      await withTimeout(
        conn.connect(),
        this.config.connectTimeoutMs,
        'connecting a dedicated Redis connection',
      );
    } catch (err) {
      conn.disconnect();
      throw err;
    }
    this.metrics.created((performance.now() - started) / 1000);
    this.lastCreateError = undefined;
    return conn;
  }

  private async destroyConnection(conn: RedisPoolClient): Promise<void> {
    if (conn.status === 'ready' && !this.cut.has(conn)) {
      await withTimeout(conn.quit(), this.config.shutdownTimeoutMs, 'QUIT').catch(() => undefined);
    }
    await disconnectAndWait(conn, this.config.shutdownTimeoutMs);
  }

  private async validate(conn: RedisPoolClient): Promise<boolean> {
    if (conn.status !== 'ready') return false;
    try {
      await withTimeout(conn.ping(), this.config.healthTimeoutMs, 'PING on borrow');
      return true;
    } catch {
      return false;
    }
  }

  private closedError(): PoolClosedError {
    return new PoolClosedError(
      poolClosedMessage({
        poolName: this.config.name,
        operation: 'acquiring a dedicated connection',
      }),
      { poolName: this.config.name },
    );
  }

  private acquireError(err: unknown): Error {
    if (err instanceof Error && err.name === 'TimeoutError') {
      this.metrics.acquireTimeout();
      const { name, maxConnections, acquireTimeoutMs } = this.config;
      const cause = this.lastCreateError;
      const why =
        cause === undefined
          ? `all ${maxConnections} dedicated connections (REDIS_MAX_CONNECTIONS=${maxConnections}) are in use`
          : `no dedicated connection could be opened (last error: ${cause instanceof Error ? cause.message : 'unknown'})`;
      const error = new PoolTimeoutError(
        poolTimeoutMessage({
          poolName: name,
          operation: `acquiring a dedicated connection (${why})`,
          timeoutMs: acquireTimeoutMs,
          limit: 'REDIS_ACQUIRE_TIMEOUT_MS',
          next:
            'Release connections promptly (withConnection() always does), keep blocking commands ' +
            'short, or raise REDIS_MAX_CONNECTIONS; check Redis is reachable if none could be opened.',
        }),
        {
          poolName: name,
          timeoutMs: acquireTimeoutMs,
          limit: 'acquireTimeoutMs',
          context: { maxConnections },
          cause: cause ?? err,
        },
      );
      this.metrics.error(error);
      return error;
    }
    if (err instanceof Error && err.message.includes('draining')) return this.closedError();
    this.metrics.error(err);
    return err instanceof Error ? err : new Error(String(err));
  }
}
