import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { RedisPoolHealthIndicator, RedisPoolModule, RedisPoolService } from '@nest-pools/redis';
import { type RedisProcess, spawnRedisProcess, waitFor } from '@nest-pools/testing';
import { Test, type TestingModule } from '@nestjs/testing';
import { Cluster, Redis } from 'ioredis';

const run = promisify(execFile);

async function clusterState(node: RedisProcess): Promise<string | undefined> {
  const client = new Redis({ host: node.host, port: node.port, lazyConnect: true });
  try {
    await client.connect();
    const info = await client.cluster('INFO');
    return /cluster_state:(\w+)/.exec(String(info))?.[1];
  } finally {
    client.disconnect();
  }
}

describe('RedisPoolModule with a Redis Cluster (3 masters on loopback)', () => {
  const nodes: RedisProcess[] = [];
  let moduleRef: TestingModule;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await spawnRedisProcess({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `${n.host}:${n.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const node of nodes) {
      await waitFor(async () => (await clusterState(node)) === 'ok', {
        timeoutMs: 15_000,
        intervalMs: 100,
        description: `cluster_state:ok on ${node.port}`,
      });
    }
    moduleRef = await Test.createTestingModule({
      imports: [
        RedisPoolModule.forRoot({
          clusterNodes: nodes.map((n) => ({ host: n.host, port: n.port })),
          maxConnections: 2,
        }),
      ],
    }).compile();
    await moduleRef.init();
  }, 60_000);

  afterAll(async () => {
    await moduleRef?.close();
    await Promise.all(nodes.map((n) => n.stop()));
  });

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
