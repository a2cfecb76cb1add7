import { configSourceMissingMessage } from './messages.js';
import { PoolError } from './pool.error.js';

/**
 * `XPoolModule.forRootAsync()` without options found no `ConfigModule.forRoot()` in the
 * application, so there is nothing to read its variables from. Thrown at startup, never later.
 */
export class ConfigSourceMissingError extends PoolError {
  /** The module whose zero-argument form needs `ConfigModule` (`MongoPoolModule`). */
  readonly module: string;

  constructor(label: string, poolName: string, module: string) {
    super(configSourceMissingMessage(label, poolName, module), {
      poolName,
      context: { module },
    });
    this.module = module;
  }
}
