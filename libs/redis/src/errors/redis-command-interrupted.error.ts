import { PoolError, type PoolErrorOptions } from '@nest-pools/core';

/**
 * The main client's connection dropped while the command was written and unanswered, and
 * `resendUnfulfilled` is off, so it was not sent again. The server may or may not have run it.
 * `context.command` names the command.
 */
export class RedisCommandInterruptedError extends PoolError {
  constructor(message: string, opts: PoolErrorOptions = {}) {
    super(message, opts);
  }
}
