// Per-command latency of a Redis pool (REDIS_OPERATION_METRICS) against a real redis-server:
// db_client_operation_duration_seconds per command name for the main client and the dedicated
// connections, reply errors by type, unknown commands bucketed, handshakes and borrow checks not
// counted, and nothing at all for a pool with the option off.
import type { RedisPoolService } from '@nest-pools/redis';
import type { Redis } from 'ioredis';

import { type RedisHarness, startRedisHarness } from '../support/redis.js';
import { type OperationSeries, operationSeries } from '../support/stats.js';

const DB = 3;

/** The pool's `db_client_operation_duration_seconds` series, by `name error_type`. */
function operations(harness: RedisHarness, pool: string): Promise<Map<string, OperationSeries>> {
  return operationSeries(
    harness.registry,
    pool,
    (labels) => `${labels['db_operation_name']} ${labels['error_type'] || 'ok'}`,
  );
}

describe('Redis per-operation metrics (real redis-server)', () => {
  let harness: RedisHarness;
  let pools: RedisPoolService;

  beforeAll(async () => {
    harness = await startRedisHarness({
      pools: (redis) => [
        {
          name: 'timed',
          url: `${redis.url}/${DB}`,
          operationMetrics: true,
          healthCheckIntervalMs: 0,
          maxConnections: 1,
        },
        { name: 'quiet', url: redis.url, healthCheckIntervalMs: 0 },
        {
          name: 'unmetered',
          url: redis.url,
          healthCheckIntervalMs: 0,
          operationMetrics: true,
          poolMetrics: false,
        },
      ],
    });
    pools = harness.pools;
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('times every command of the main client and the dedicated connections by name', async () => {
    const main = pools.getClient('timed') as Redis;
    await main.set('op:k', 'v');
    for (let i = 0; i < 3; i++) await main.get('op:k');
    await expect(main.lpush('op:k', 'x')).rejects.toThrow(/WRONGTYPE/);
    await expect(main.call('NOTACOMMAND', 'a')).rejects.toThrow(/unknown command/);
    await pools.withConnection('timed', async (conn) => {
      await conn.incr('op:n');
      // The server holds BLPOP for its 0.2 s timeout: the observed time cannot be shorter.
      await conn.blpop('op:empty', 0.2);
    });

    const ops = await operations(harness, 'timed');
    expect([...ops.keys()].sort()).toEqual([
      'BLPOP ok',
      'GET ok',
      'INCR ok',
      'LPUSH wrongtype',
      'SET ok',
      'other err',
    ]);
    expect(ops.get('GET ok')).toMatchObject({
      count: 3,
      labels: {
        pool_name: 'timed',
        db_system_name: 'redis',
        db_operation_name: 'GET',
        db_collection_name: '',
        db_namespace: String(DB),
        error_type: '',
      },
    });
    expect(ops.get('SET ok')?.count).toBe(1);
    expect(ops.get('LPUSH wrongtype')?.count).toBe(1);
    expect(ops.get('INCR ok')?.count).toBe(1);
    expect(ops.get('BLPOP ok')?.count).toBe(1);
    expect(ops.get('BLPOP ok')?.sum).toBeGreaterThanOrEqual(0.2);
    expect(ops.get('GET ok')?.sum).toBeGreaterThan(0);
    // The timer's reject wrapper also reports the failure to the pool: each failure counted once.
    const errors = (await harness.registry.getSingleMetric('pool_errors_total')!.get()).values
      .filter((v) => v.labels['pool_name'] === 'timed')
      .map((v) => `${v.labels['error_type']} ${v.value}`)
      .sort();
    expect(errors).toEqual(['err 1', 'wrongtype 1']);
  });

  it('reads the clock again for a command issued after a reply, not the reply turn’s time', async () => {
    const main = pools.getClient('timed') as Redis;
    await main.set('op:clock', 'v');
    // The continuation of this reply runs in the turn that read the reply's time; everything it
    // spends before issuing the next command must not be charged to that command.
    await main.get('op:clock');
    const busyUntil = performance.now() + 50;
    while (performance.now() < busyUntil);
    const issued = performance.now();
    await main.pttl('op:clock');
    const answered = performance.now();

    const pttl = (await operations(harness, 'timed')).get('PTTL ok');
    expect(pttl?.count).toBe(1);
    // Issued at or after `issued`, its reply read before `answered`.
    expect(pttl!.sum).toBeLessThanOrEqual((answered - issued) / 1000 + 1e-9);
  });

  it('writes nothing for a pool with operation metrics off', async () => {
    const quiet = pools.getClient('quiet') as Redis;
    await quiet.set('q', '1');
    await quiet.get('q');
    expect((await operations(harness, 'quiet')).size).toBe(0);
  });

  it('records no metric of a pool with pool metrics off (REDIS_POOL_METRICS=false)', async () => {
    await (pools.getClient('unmetered') as Redis).set('off:k', 'v');
    await pools.withConnection('unmetered', (conn) => conn.get('off:k'));
    const labelled = (await harness.registry.getMetricsAsJSON())
      .flatMap((m) => m.values)
      .filter(
        (v) =>
          v.labels['pool_name'] === 'unmetered' ||
          v.labels['db_client_connection_pool_name'] === 'unmetered',
      );
    expect(labelled).toEqual([]);
    expect((await operations(harness, 'timed')).size).toBeGreaterThan(0);
  });
});
