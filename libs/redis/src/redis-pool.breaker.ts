import { PoolBreaker, type PoolBreakerTicket, type PoolMetrics } from '@nest-pools/core';
import type { Command } from 'ioredis';

import type { RedisPoolConfig } from './config/index.js';
import { REDIS_DB_SYSTEM } from './redis-pool.constants.js';
import { classifyRedisError } from './redis-pool.metrics.js';

/** `error_type`s that say the server is unreachable, hung or gone — never a reply error. */
const CONNECTION_FAILURES = new Set([
  'timeout',
  'connection_closed',
  'max_retries',
  'offline_queue_full',
  'econnrefused',
  'econnreset',
  'etimedout',
  'ehostunreach',
  'enetunreach',
  'epipe',
]);

/** Whether a command's failure counts against the circuit (reply errors like WRONGTYPE never do). */
export function isRedisConnectionFailure(err: unknown): boolean {
  return CONNECTION_FAILURES.has(classifyRedisError(err));
}

/**
 * The main client's circuit breaker. Failures are counted where the client already reports them
 * (no work on successful commands); any bytes from the server count as a success, and a
 * completed reconnect closes the circuit at once. While the circuit is open, commands are
 * rejected before they are queued or sent; after the half-open wait the next command is the trial.
 */
export class RedisPoolBreaker {
  readonly breaker: PoolBreaker;
  /** Bound once: the socket's `data` listener. */
  readonly alive = (): void => this.breaker.record(true);

  constructor(config: RedisPoolConfig, metrics: PoolMetrics) {
    this.breaker = new PoolBreaker({
      poolName: config.name,
      system: REDIS_DB_SYSTEM,
      consecutiveFailures: config.breakerFailures,
      halfOpenAfterMs: config.breakerHalfOpenMs,
      enabled: config.breakerEnabled,
      metrics,
    });
  }

  /** A failed command (already counted in metrics). */
  failed(err: unknown): void {
    if (isRedisConnectionFailure(err)) this.breaker.record(false);
  }

  /** Rejects `command` while the circuit is open; makes it the trial when half-open. */
  refused(command: Command): boolean {
    if (this.breaker.state === 'closed') return false;
    let ticket: PoolBreakerTicket;
    try {
      ticket = this.breaker.admit();
    } catch (error) {
      command.reject(error as Error);
      return true;
    }
    const { resolve, reject } = command;
    command.resolve = (value) => {
      ticket.success();
      resolve(value);
    };
    command.reject = (err: Error) => {
      if (isRedisConnectionFailure(err)) ticket.failure();
      else ticket.success();
      reject(err);
    };
    return false;
  }
}
