import { PoolClosedError, poolClosedMessage, redact, withTimeout } from '@nest-pools/core';
import type { LoggerService } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';

import { type RedisPoolConfig } from './config/index.js';
import { buildSubscriberClientOptions } from './config/redis-pool.client-options.js';
import { disconnectAndWait, type RedisPoolClient } from './redis-pool.client.js';
import type { RedisPoolMetrics } from './redis-pool.metrics.js';
import { keepSocketErrorsHandled } from './redis-socket-errors.js';

/**
 * A pool's long-lived pub/sub connection, outside the bounded dedicated pool: one per pool,
 * opened on first use, reconnecting with the pool's backoff and subscribing its channels and
 * patterns again after every reconnect (ioredis `autoResubscribe`), closed with the pool.
 */
export class RedisSubscriberConnection {
  private conn: RedisPoolClient | undefined;
  private closing: Promise<void> | undefined;

  /**
   * @param config The parsed pool configuration.
   * @param metrics The pool's metrics (connection errors are counted there).
   * @param logger Logger of the pool.
   */
  constructor(
    private readonly config: RedisPoolConfig,
    private readonly metrics: RedisPoolMetrics,
    private readonly logger: LoggerService,
  ) {}

  /** The connection, opened now if it was not yet. */
  get(): RedisPoolClient {
    if (this.closing) {
      throw new PoolClosedError(
        poolClosedMessage({ poolName: this.config.name, operation: 'opening the subscriber' }),
        { poolName: this.config.name },
      );
    }
    this.conn ??= this.connect();
    return this.conn;
  }

  /** Whether it was opened and has not ended. */
  get isOpen(): boolean {
    return this.conn !== undefined && this.conn.status !== 'end';
  }

  /** QUIT within `timeoutMs`, then disconnect. Idempotent. */
  close(timeoutMs: number): Promise<void> {
    this.closing ??= this.closeOnce(timeoutMs);
    return this.closing;
  }

  private connect(): RedisPoolClient {
    const built = buildSubscriberClientOptions(this.config);
    const conn =
      built.topology === 'cluster'
        ? new Cluster(built.nodes, built.options)
        : new Redis(built.options);
    keepSocketErrorsHandled(conn);
    conn.on('error', (err: unknown) => this.metrics.error(err));
    // Never rejects into the void: while Redis is down the client keeps reconnecting.
    conn.connect().catch((err: unknown) => {
      this.logger.warn(
        `Subscriber of Redis pool "${this.config.name}" is not connected yet ` +
          `(${redact(String(err))}); it keeps reconnecting and subscribes once connected.`,
      );
    });
    return conn;
  }

  private async closeOnce(timeoutMs: number): Promise<void> {
    const conn = this.conn;
    if (conn === undefined) return;
    if (conn.status === 'ready') {
      await withTimeout(conn.quit(), timeoutMs, 'QUIT').catch(() => undefined);
    }
    await disconnectAndWait(conn, timeoutMs);
  }
}
