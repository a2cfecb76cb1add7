import { PoolError, PoolRegistry } from '@nest-pools/core';
import { Injectable } from '@nestjs/common';

import { unknownConnectionMessage } from './errors/redis-pool.messages.js';
import type { RedisPoolStats } from './interfaces/redis-pool-stats.interface.js';
import type { RedisPoolClient } from './redis-pool.client.js';
import { DEFAULT_REDIS_POOL_NAME } from './redis-pool.constants.js';
import type { RedisPoolInstance } from './redis-pool.instance.js';

/**
 * Every Redis pool of the application, by name: main clients, dedicated connections and their
 * figures. One instance per application, shared by all `RedisPoolModule` instances.
 *
 * @example
 * const job = await this.redisPools.withConnection('default', (conn) => conn.blpop('jobs', 5));
 */
@Injectable()
export class RedisPoolService {
  /** The Redis pools of this application by name; each pool registers itself as it starts. */
  readonly registry = new PoolRegistry<RedisPoolInstance>('Redis');

  /** Names of the registered pools. */
  names(): string[] {
    return this.registry.names();
  }

  /**
   * A pool by name.
   * @throws PoolNotFoundError naming the registered pools when there is none of that name.
   */
  get(name: string = DEFAULT_REDIS_POOL_NAME): RedisPoolInstance {
    return this.registry.get(name);
  }

  /**
   * The pool's main (multiplexed) client, the one `InjectRedisPool(name)` injects.
   * @param name Pool name.
   * @default name 'default'
   */
  getClient(name: string = DEFAULT_REDIS_POOL_NAME): RedisPoolClient {
    return this.get(name).client;
  }

  /**
   * The pool's long-lived subscriber: one connection per pool outside the bounded dedicated
   * pool, opened on the first call (later calls return the same client). It reconnects with the
   * pool's backoff and subscribes its channels and patterns again after every reconnect; it is
   * closed with the pool. Listen for `message` / `pmessage` on it.
   * @param name Pool name.
   * @default name 'default'
   * @throws PoolClosedError during shutdown.
   * @example
   * const sub = pools.subscriber();
   * sub.on('message', (channel, message) => handle(channel, message));
   * await sub.subscribe('events');
   */
  subscriber(name: string = DEFAULT_REDIS_POOL_NAME): RedisPoolClient {
    return this.get(name).subscriber.get();
  }

  /**
   * Borrows a dedicated connection (validated with PING). Pair every call with
   * {@link release} in a `finally` block, or use {@link withConnection}.
   * @param name Pool name.
   * @default name 'default'
   * @throws PoolTimeoutError naming the pool and its limit after `acquireTimeoutMs`.
   * @throws PoolClosedError during shutdown.
   */
  acquire(name: string = DEFAULT_REDIS_POOL_NAME): Promise<RedisPoolClient> {
    return this.get(name).dedicated.acquire();
  }

  /**
   * Returns a connection obtained from {@link acquire}, clean: a `WATCH`, an open `MULTI`, a
   * `SELECT` or a `CLIENT SETNAME` left behind is reset; a connection that cannot be made clean
   * (closed, subscribed, in MONITOR, a reply still due) is closed instead of being lent again.
   * @throws PoolError when the connection was not lent by any pool (or was released already).
   */
  async release(conn: RedisPoolClient): Promise<void> {
    for (const instance of this.registry.values()) {
      if (instance.dedicated.owns(conn)) {
        await instance.dedicated.release(conn);
        return;
      }
    }
    throw new PoolError(unknownConnectionMessage());
  }

  /**
   * Runs `fn` on a dedicated connection and always gives it back, also when `fn` throws.
   * Use it for blocking commands (BLPOP, BRPOPLPUSH, XREAD BLOCK) and WATCH/MULTI/EXEC; pub/sub
   * belongs on {@link subscriber}, everything else on the main client.
   * @param name Pool name.
   * @param fn Work to run; its result (or error) is passed through.
   * @example
   * await pools.withConnection('default', async (conn) => {
   *   await conn.watch('balance');
   *   const balance = Number(await conn.get('balance'));
   *   return conn.multi().set('balance', balance - 10).exec(); // null when balance changed
   * });
   */
  async withConnection<T>(name: string, fn: (conn: RedisPoolClient) => Promise<T> | T): Promise<T> {
    const instance = this.get(name);
    const conn = await instance.dedicated.acquire();
    try {
      return await fn(conn);
    } finally {
      await instance.dedicated.release(conn);
    }
  }

  /**
   * The seeds' figures (created, available, in use, max) plus pending acquires, detected leaks,
   * and the main client's state and reconnect count.
   * @param name Pool name.
   * @default name 'default'
   */
  getPoolStats(name: string = DEFAULT_REDIS_POOL_NAME): RedisPoolStats {
    return this.get(name).stats();
  }
}
