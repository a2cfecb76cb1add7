import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

import type { HttpPoolClient } from './http-pool.client.js';
import { DEFAULT_HTTP_POOL_NAME } from './http-pool.constants.js';
import { getHttpPoolClientToken } from './http-pool.utils.js';
import type { HttpPoolStats } from './interfaces/http-pool-stats.interface.js';

/** Looks up pooled HTTP clients by name, wherever their module was imported. */
@Injectable()
export class HttpPoolService {
  constructor(private readonly moduleRef: ModuleRef) {}

  /**
   * The client `name` (its transport, axios instance, `HttpService`, stats, health).
   * @throws Error naming the missing client when no `HttpPoolModule` registered it
   */
  getClient(name: string = DEFAULT_HTTP_POOL_NAME): HttpPoolClient {
    return this.moduleRef.get<HttpPoolClient>(getHttpPoolClientToken(name), { strict: false });
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
