import { PoolError } from '@nest-pools/core';
import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

import type { MongoPoolStats } from './interfaces/mongo-pool-options.interface.js';
import { DEFAULT_MONGO_POOL_NAME } from './mongo-pool.constants.js';
import type { MongoPoolInstance } from './mongo-pool.instance.js';
import { getMongoPoolInstanceToken } from './mongo-pool.utils.js';

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
  constructor(private readonly moduleRef: ModuleRef) {}

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
    try {
      return this.moduleRef.get<MongoPoolInstance>(getMongoPoolInstanceToken(name), {
        strict: false,
      });
    } catch (cause) {
      throw new PoolError(
        `No MongoDB pool named "${name}" is registered. Import ` +
          `MongoPoolModule.forRootAsync({ name: '${name}' }) (or forRoot) in the application module.`,
        { poolName: name, cause },
      );
    }
  }
}
