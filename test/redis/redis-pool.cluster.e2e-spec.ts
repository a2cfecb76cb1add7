import { RedisPoolHealthIndicator, RedisPoolService } from '@nest-pools/redis';
import { waitFor } from '@nest-pools/testing';
import type { TestingModule } from '@nestjs/testing';
import { Cluster } from 'ioredis';

import { type RedisClusterHarness, startRedisClusterHarness } from '../support/redis.js';

describe('RedisPoolModule with a Redis Cluster (3 masters on loopback)', () => {
  let harness: RedisClusterHarness;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    harness = await startRedisClusterHarness({ maxConnections: 2 });
    moduleRef = harness.moduleRef;
  }, 60_000);

  afterAll(() => harness?.close());

  it('injects a Cluster client and runs keys across slots on all masters', async () => {
    const pools = moduleRef.get(RedisPoolService);
    const client = pools.getClient();
    expect(client).toBeInstanceOf(Cluster);
    await waitFor(() => client.status === 'ready', { timeoutMs: 10_000 });
    const keys = Array.from({ length: 60 }, (_, i) => `user:${i}`);
    await Promise.all(keys.map((k) => client.set(k, k.toUpperCase())));
    const values = await Promise.all(keys.map((k) => client.get(k)));
    expect(values).toEqual(keys.map((k) => k.toUpperCase()));
    // The keys really are spread: every master holds some of them.
    const perNode = await Promise.all(
      (client as Cluster).nodes('master').map((node) => node.dbsize()),
    );
    expect(perNode).toHaveLength(3);
    for (const count of perNode) expect(count).toBeGreaterThan(0);
    // Multi-key commands work within one slot (hash tag).
    await client.mset('{order:1}:a', '1', '{order:1}:b', '2');
    expect(await client.mget('{order:1}:a', '{order:1}:b')).toEqual(['1', '2']);
    expect(pools.getPoolStats().topology).toBe('cluster');
  });

  it('runs blocking commands on a dedicated cluster connection', async () => {
    const pools = moduleRef.get(RedisPoolService);
    const popped = pools.withConnection('default', (conn) => conn.blpop('jobs:cluster', 2));
    await new Promise((r) => setTimeout(r, 50));
    await pools.getClient().rpush('jobs:cluster', 'j1');
    await expect(popped).resolves.toEqual(['jobs:cluster', 'j1']);
  });

  it('health reads cluster_state', async () => {
    const health = moduleRef.get(RedisPoolHealthIndicator);
    const result = await health.isHealthy('cache');
    expect(result['cache']).toMatchObject({
      status: 'up',
      topology: 'cluster',
      cluster: { cluster_state: 'ok', cluster_known_nodes: '3' },
    });
  });
});
