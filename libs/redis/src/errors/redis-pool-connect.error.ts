import { PoolError, type PoolErrorOptions } from '@nest-pools/core';

/**
 * The pool could not connect at startup while `failFast` is set. `context` holds the (redacted)
 * target and the connect timeout; `cause` the driver's error.
 */
export class RedisPoolConnectError extends PoolError {
  constructor(message: string, opts: PoolErrorOptions = {}) {
    super(message, opts);
  }
}
