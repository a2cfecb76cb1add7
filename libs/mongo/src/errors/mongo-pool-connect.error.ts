import { PoolError, redactUrl } from '@nest-pools/core';

/**
 * Thrown from bootstrap when `failFast` is set and the first connection attempt does not find a
 * server within `serverSelectionTimeoutMS`.
 */
export class MongoPoolConnectError extends PoolError {
  constructor(opts: { poolName: string; url: string; timeoutMs: number; cause: unknown }) {
    const reason = opts.cause instanceof Error ? opts.cause.message : String(opts.cause);
    super(
      `MongoDB pool "${opts.poolName}" could not connect to ${redactUrl(opts.url)} within ` +
        `${opts.timeoutMs} ms (server selection timed out: ${reason}). Start the server or fix ` +
        'MONGODB_URL; set MONGODB_FAIL_FAST=false to boot without it and connect in the background.',
      {
        poolName: opts.poolName,
        context: { timeoutMs: opts.timeoutMs, url: redactUrl(opts.url) },
        cause: opts.cause,
      },
    );
  }
}
