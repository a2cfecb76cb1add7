import { PoolRegistry } from '@nest-pools/core';
import { Injectable } from '@nestjs/common';

import type { HttpPoolClient } from './http-pool.client.js';
import { DEFAULT_HTTP_POOL_NAME } from './http-pool.constants.js';
import type { HttpPoolStats } from './interfaces/http-pool-stats.interface.js';

/** Looks up pooled HTTP clients by name, wherever their module was imported. */
@Injectable()
export class HttpPoolService {
  /** The HTTP clients of this application by name; each client registers itself as it starts. */
  readonly registry = new PoolRegistry<HttpPoolClient>('HTTP');

  /**
   * The client `name` (its transport, axios instance, `HttpService`, stats, health).
   * @throws PoolNotFoundError naming the registered clients when no `HttpPoolModule` registered it
   */
  getClient(name: string = DEFAULT_HTTP_POOL_NAME): HttpPoolClient {
    return this.registry.get(name);
  }

  /** Names of the registered clients. */
  names(): string[] {
    return this.registry.names();
  }

  /**
   * The seeds' pool figures of client `name`: `limit`, `limitPerHost`, `connections`,
   * `acquired`, `acquiredPerHost`, plus `pending`, idle sockets and the recent error ratio.
   *
   * @example
   * ```ts
   * const { acquired, limit, pending } = pools.getPoolStats('github');
   * ```
   */
  getPoolStats(name: string = DEFAULT_HTTP_POOL_NAME): HttpPoolStats {
    return this.getClient(name).stats();
  }
}
