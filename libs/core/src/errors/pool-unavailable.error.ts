import { poolUnavailableMessage } from './messages.js';
import { PoolError } from './pool.error.js';

/**
 * The pool's circuit breaker is open: the server failed at the connection level (refused, reset,
 * hung past a timeout) several times in a row, so calls fail at once instead of waiting for a
 * timeout each. Applications map it to 503 with `Retry-After: retryAfterSeconds`.
 */
export class PoolUnavailableError extends PoolError {
  /** When the circuit opened (epoch ms). */
  readonly since: number;
  /** When the next trial call is let through (epoch ms). */
  readonly retryAt: number;
  /** Whole seconds until the next trial call, at least 1: the `Retry-After` value. */
  readonly retryAfterSeconds: number;

  constructor(opts: {
    poolName: string;
    system: string;
    since: number;
    retryAt: number;
    cause?: unknown;
  }) {
    const retryAfterSeconds = Math.max(1, Math.ceil((opts.retryAt - Date.now()) / 1000));
    super(poolUnavailableMessage(opts.system, opts.poolName, opts.since, retryAfterSeconds), {
      poolName: opts.poolName,
      context: {
        system: opts.system,
        since: new Date(opts.since).toISOString(),
        retryAfterSeconds,
      },
      cause: opts.cause,
    });
    this.since = opts.since;
    this.retryAt = opts.retryAt;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
