import { PoolClosedError, PoolMetrics, PoolTimeoutError } from '@nest-pools/core';
import { parseRedisPoolConfig, type RedisPoolClient } from '@nest-pools/redis';
import { type RedisTestServer, startRedis, waitFor } from '@nest-pools/testing';
import type { LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';

// Internal to the lib (not in its barrel), so reached by path; it needs a real server, hence e2e.
import { RedisDedicatedPool } from '../../libs/redis/src/redis-dedicated.pool.js';
import { RedisPoolMetrics } from '../../libs/redis/src/redis-pool.metrics.js';
import { poolConnections } from '../support/redis.js';

/**
 * `RedisDedicatedPool` against a real redis-server. Connection counts are read on the server
 * (`CLIENT LIST`, by the pool's CLIENT SETNAME), never inferred from timing.
 */
describe('RedisDedicatedPool', () => {
  let server: RedisTestServer;
  let admin: Redis;
  const pools: RedisDedicatedPool[] = [];
  const warnings: string[] = [];
  let onWarn: ((message: string) => void) | undefined;
  const logger: LoggerService = {
    log: () => undefined,
    error: () => undefined,
    warn: (message: unknown) => {
      warnings.push(String(message));
      onWarn?.(String(message));
    },
  };

  /** Dedicated connections of pool `name` the server has open. */
  const serverSide = async (name: string): Promise<number> =>
    (await poolConnections(server, `nest-pools:${name}:dedicated`)).length;

  function makePool(name: string, options: Record<string, unknown> = {}): RedisDedicatedPool {
    const config = parseRedisPoolConfig(
      {},
      { name, url: server.url, acquireTimeoutMs: 10_000, idleTimeoutMs: 0, ...options },
    );
    const metrics = new RedisPoolMetrics(new PoolMetrics(new Registry()), name);
    const pool = new RedisDedicatedPool(config, metrics, logger, { changed: () => undefined });
    pools.push(pool);
    return pool;
  }

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
  });

  afterEach(async () => {
    onWarn = undefined;
    warnings.length = 0;
    await Promise.all(pools.splice(0).map((pool) => pool.close(2000)));
  });

  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it('lends a connection, takes it back and lends the same one again', async () => {
    const pool = makePool('lend');
    const conn = await pool.acquire();
    expect(await conn.ping()).toBe('PONG');
    expect(pool.owns(conn)).toBe(true);
    expect(pool.stats()).toMatchObject({ created: 1, inUse: 1, available: 0, pending: 0 });
    expect(await serverSide('lend')).toBe(1);

    expect(await pool.release(conn)).toBe(true);
    expect(pool.owns(conn)).toBe(false);
    expect(pool.stats()).toMatchObject({ created: 1, inUse: 0, available: 1 });

    const again = await pool.acquire();
    expect(again).toBe(conn);
    expect(await serverSide('lend')).toBe(1);
    await pool.release(again);
  });

  it('never opens more than maxConnections and times out naming the pool and limit', async () => {
    const pool = makePool('bound', { maxConnections: 2, acquireTimeoutMs: 150 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(a).not.toBe(b);

    const error = await pool.acquire().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect(error).toMatchObject({
      poolName: 'bound',
      limit: 'acquireTimeoutMs',
      timeoutMs: 150,
    });
    expect((error as Error).message).toContain('"bound"');
    expect((error as Error).message).toContain('REDIS_MAX_CONNECTIONS=2');
    expect(pool.stats()).toMatchObject({ created: 2, inUse: 2, pending: 0, max: 2 });
    expect(await serverSide('bound')).toBe(2);

    await pool.release(a);
    await pool.release(b);
  });

  it('serves waiters first come, first served', async () => {
    const pool = makePool('fifo', { maxConnections: 1 });
    const held = await pool.acquire();
    const order: string[] = [];
    const waiter = (label: string) =>
      pool.acquire().then((conn) => {
        order.push(label);
        return conn;
      });
    const first = waiter('first');
    const second = waiter('second');
    const third = waiter('third');
    expect(pool.stats().pending).toBe(3);

    await pool.release(held);
    const c1 = await first;
    expect(order).toEqual(['first']);
    await pool.release(c1);
    const c2 = await second;
    expect(order).toEqual(['first', 'second']);
    await pool.release(c2);
    const c3 = await third;
    expect(order).toEqual(['first', 'second', 'third']);
    expect(c3).toBe(held);
    await pool.release(c3);
    expect(await serverSide('fifo')).toBe(1);
  });

  it('refuses to take back a connection it did not lend, or one already returned', async () => {
    const pool = makePool('unknown');
    const stranger = new Redis(server.url, { lazyConnect: true });
    expect(await pool.release(stranger as unknown as RedisPoolClient)).toBe(false);
    stranger.disconnect();

    const conn = await pool.acquire();
    expect(await pool.release(conn)).toBe(true);
    expect(await pool.release(conn)).toBe(false);
    expect(pool.stats()).toMatchObject({ created: 1, available: 1, inUse: 0 });
  });

  it('close() closes idle connections and refuses new acquires with PoolClosedError', async () => {
    const pool = makePool('close', { maxConnections: 3 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    await pool.release(a);
    await pool.release(b);
    expect(await serverSide('close')).toBe(2);

    await pool.close(2000);
    expect(await serverSide('close')).toBe(0);
    expect(pool.stats()).toMatchObject({ created: 0, available: 0, inUse: 0 });
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError);
    await expect(pool.acquire()).rejects.toMatchObject({ poolName: 'close' });
  });

  it('close() rejects acquires waiting for a connection with PoolClosedError', async () => {
    const pool = makePool('waiters', { maxConnections: 1 });
    const held = await pool.acquire();
    const waiting = pool.acquire();
    const outcome = waiting.then(
      () => 'served',
      (err: unknown) => err,
    );
    expect(pool.stats().pending).toBe(1);

    const closing = pool.close(2000);
    await pool.release(held);
    await closing;
    expect(await outcome).toBeInstanceOf(PoolClosedError);
    expect(await serverSide('waiters')).toBe(0);
  });

  it('close() cuts connections still lent after its deadline', async () => {
    const pool = makePool('deadline');
    const conn = await pool.acquire();
    expect(await serverSide('deadline')).toBe(1);
    await pool.close(100);
    expect(await serverSide('deadline')).toBe(0);
    expect(conn.status).toBe('end');
  });

  it('opens minConnections up front and keeps them', async () => {
    const pool = makePool('min', { minConnections: 2, maxConnections: 4 });
    await waitFor(async () => (await serverSide('min')) === 2, { timeoutMs: 10_000 });
    expect(pool.stats()).toMatchObject({ created: 2, available: 2, min: 2 });
    const conn = await pool.acquire();
    expect(await serverSide('min')).toBe(2);
    await pool.release(conn);
  });

  it('reports a connection held past the leak threshold, once', async () => {
    const pool = makePool('leak', { leakDetectionThresholdMs: 50 });
    const warned = new Promise<string>((resolve) => (onWarn = resolve));
    const conn = await pool.acquire();
    const message = await warned;
    expect(message).toContain('"leak"');
    expect(message).toContain('leak threshold 50 ms');
    expect(message).toContain('Acquired at:');
    expect(pool.stats().leaksDetected).toBe(1);
    await pool.release(conn);
    expect(warnings).toHaveLength(1);
  });

  it('destroys a connection broken while lent instead of reusing it', async () => {
    const pool = makePool('broken');
    const conn = await pool.acquire();
    const id = Number(await conn.client('ID'));
    const closed = new Promise((resolve) => conn.once('close', resolve));
    await admin.client('KILL', 'ID', String(id));
    await closed;

    expect(await pool.release(conn)).toBe(true);
    expect(pool.stats()).toMatchObject({ destroyedOnRelease: 1, created: 0 });

    const next = await pool.acquire();
    expect(next).not.toBe(conn);
    expect(Number(await next.client('ID'))).not.toBe(id);
    expect(await serverSide('broken')).toBe(1);
    await pool.release(next);
  });

  it('does not lend an idle connection that broke, validating it with PING first', async () => {
    const pool = makePool('stale');
    const conn = await pool.acquire();
    const id = Number(await conn.client('ID'));
    await pool.release(conn);
    const closed = new Promise((resolve) => conn.once('close', resolve));
    await admin.client('KILL', 'ID', String(id));
    await closed;

    const next = await pool.acquire();
    expect(next).not.toBe(conn);
    expect(await next.ping()).toBe('PONG');
    expect(await serverSide('stale')).toBe(1);
    await pool.release(next);
  });
});
