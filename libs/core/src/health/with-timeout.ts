import { PoolTimeoutError } from '../errors/pool-timeout.error.js';

/** Extra options of {@link withTimeout}. */
export interface WithTimeoutOptions {
  /**
   * Pool the operation belongs to; carried by the error.
   * @default undefined (the error names no pool)
   */
  poolName?: string;
  /**
   * Which option sets the limit (e.g. `healthTimeoutMs`); carried by the error.
   * @default undefined
   */
  limit?: string;
  /**
   * Aborted with the timeout error when the limit passes, so the work itself can stop.
   * @default undefined (nothing is aborted)
   */
  controller?: AbortController;
}

/**
 * Settles like `promise`, or rejects with a {@link PoolTimeoutError} carrying `message` when it
 * has not settled within `ms`. The timer is cleared as soon as `promise` settles, so nothing is
 * left running; a late rejection of `promise` is absorbed (never unhandled).
 *
 * @param promise the work to bound
 * @param ms the limit in milliseconds
 * @param message message of the timeout error (say what timed out and what to do next)
 *
 * @example
 * ```ts
 * await withTimeout(redis.ping(), 1000, 'Redis ping timed out after 1000 ms; check the server.');
 * ```
 */
export function withTimeout<T>(
  promise: PromiseLike<T>,
  ms: number,
  message: string,
  options: WithTimeoutOptions = {},
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new PoolTimeoutError(message, {
        timeoutMs: ms,
        ...(options.poolName !== undefined && { poolName: options.poolName }),
        ...(options.limit !== undefined && { limit: options.limit }),
      });
      options.controller?.abort(error);
      reject(error);
    }, ms);
  });
  // race() subscribes to `promise`, so its rejection after the deadline is never unhandled.
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Waits until `promise` settles, but no longer than `ms`; never rejects. For shutdown steps that
 * give work in flight a bounded chance to finish before cutting it. The timer is cleared as soon
 * as `promise` settles.
 *
 * @param promise the work to wait for (its rejection counts as settled)
 * @param ms the longest wait in milliseconds
 * @returns whether `promise` settled within `ms`
 *
 * @example
 * ```ts
 * await waitAtMost(inFlightDone, 5000);
 * await agent.destroy();
 * ```
 */
export async function waitAtMost(promise: PromiseLike<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = Promise.resolve(promise).then(
    () => true,
    () => true,
  );
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}
