import { PoolRegistry } from '@nest-pools/core';
import { Injectable } from '@nestjs/common';

import type { MongoPoolStats } from './interfaces/mongo-pool-options.interface.js';
import { DEFAULT_MONGO_POOL_NAME } from './mongo-pool.constants.js';
import type { MongoPoolInstance } from './mongo-pool.instance.js';

/**
 * Read access to the pools of the application, by name.
 *
 * @example
 * ```ts
 * const stats = await this.pools.getPoolStats('default');
 * // { current: 5, available: 4, active: 1, totalCreated: 7, topologyType: 'Single', server: { current: 12, … } }
 * ```
 */
@Injectable()
export class MongoPoolService {
  /** The MongoDB pools of this application by name; each pool registers itself as it starts. */
  readonly registry = new PoolRegistry<MongoPoolInstance>('MongoDB');

  /**
   * Snapshot of the pool `name`: driver-side counts (this process), topology type and known
   * servers, plus the server's `serverStatus.connections` when the user may run `serverStatus`
   * (`server: null` and `serverStatusError` otherwise — never a rejection for that reason).
   *
   * @throws PoolError when no pool of that name is registered
   */
  async getPoolStats(name: string = DEFAULT_MONGO_POOL_NAME): Promise<MongoPoolStats> {
    return this.getPool(name).stats();
  }

  /**
   * The pool object of `name`, wherever it was registered: its driver `client`, mongoose
   * `connection`, resolved `config`, `state()` and `checkHealth()`. For diagnostics and tests;
   * application code uses the injected connection.
   *
   * @throws PoolError when no pool of that name is registered
   */
  getPool(name: string = DEFAULT_MONGO_POOL_NAME): MongoPoolInstance {
    return this.registry.get(name);
  }

  /** Names of the registered pools. */
  names(): string[] {
    return this.registry.names();
  }
}
