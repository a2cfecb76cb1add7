import { PoolError, type PoolErrorOptions } from './pool.error.js';

/** The pool has been closed (application shutdown) and refuses new work. */
export class PoolClosedError extends PoolError {
  constructor(message: string, opts: PoolErrorOptions = {}) {
    super(message, opts);
  }
}
