import { PoolError, type PoolErrorOptions } from './pool.error.js';

/** Construction options of a {@link PoolTimeoutError}. */
export interface PoolTimeoutErrorOptions extends PoolErrorOptions {
  /** The time limit that was exceeded, in milliseconds. */
  timeoutMs?: number;
  /**
   * Which limit was exceeded, e.g. `acquireTimeoutMs`, `healthTimeoutMs`, `waitQueueTimeoutMS`,
   * `shutdownTimeoutMs`.
   */
  limit?: string;
}

/**
 * An operation did not finish within its time limit (acquiring a connection, a health check, a
 * shutdown step). `context` holds `limit` and `timeoutMs`.
 */
export class PoolTimeoutError extends PoolError {
  /** The time limit that was exceeded, in milliseconds. */
  readonly timeoutMs?: number;
  /** Which limit was exceeded (an option key). */
  readonly limit?: string;

  constructor(message: string, opts: PoolTimeoutErrorOptions = {}) {
    const { timeoutMs, limit, ...base } = opts;
    const limits: Record<string, unknown> = {};
    if (limit !== undefined) limits.limit = limit;
    if (timeoutMs !== undefined) limits.timeoutMs = timeoutMs;
    super(message, { ...base, context: { ...(base.context ?? {}), ...limits } });
    if (timeoutMs !== undefined) this.timeoutMs = timeoutMs;
    if (limit !== undefined) this.limit = limit;
  }
}
