import { PoolError, type PoolErrorOptions } from '@nest-pools/core';

/**
 * The main client is disconnected and its offline queue already holds `offlineQueueMax`
 * commands: the command is refused at once instead of waiting through the outage.
 * `context.limit` holds the bound.
 */
export class RedisOfflineQueueFullError extends PoolError {
  constructor(message: string, opts: PoolErrorOptions = {}) {
    super(message, opts);
  }
}
