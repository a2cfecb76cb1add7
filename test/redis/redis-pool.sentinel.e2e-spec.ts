import { jest } from '@jest/globals';
import { RedisPoolHealthIndicator, RedisPoolModule, RedisPoolService } from '@nest-pools/redis';
import { type RedisProcess, spawnRedisProcess, waitFor } from '@nest-pools/testing';
import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';

const MASTER_NAME = 'mymaster';

async function withClient<T>(
  node: { host: string; port: number },
  fn: (c: Redis) => Promise<T>,
): Promise<T> {
  const client = new Redis({
    host: node.host,
    port: node.port,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

async function sentinelMasterPort(sentinel: RedisProcess): Promise<number> {
  const addr = await withClient(sentinel, (c) =>
    c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME),
  );
  return Number((addr as string[])[1]);
}

describe('RedisPoolModule with Sentinel (1 master, 1 replica, 3 sentinels)', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  const sentinels: RedisProcess[] = [];
  let moduleRef: TestingModule;

  beforeAll(async () => {
    master = await spawnRedisProcess();
    replica = await spawnRedisProcess({ args: ['--replicaof', master.host, String(master.port)] });
    await waitFor(
      () =>
        withClient(replica, async (c) =>
          (await c.info('replication')).includes('master_link_status:up'),
        ),
      { timeoutMs: 10_000, description: 'replica in sync' },
    );
    for (let i = 0; i < 3; i++) {
      sentinels.push(
        await spawnRedisProcess({
          args: ['--sentinel'],
          config: [
            `sentinel monitor ${MASTER_NAME} ${master.host} ${master.port} 2`,
            `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
            `sentinel failover-timeout ${MASTER_NAME} 5000`,
            '',
          ].join('\n'),
        }),
      );
    }
    // Failover needs every sentinel to know the replica and the other sentinels.
    for (const sentinel of sentinels) {
      await waitFor(
        () =>
          withClient(sentinel, async (c) => {
            const replicas = (await c.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[];
            const peers = (await c.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
            return replicas.length === 1 && peers.length === 2;
          }),
        {
          timeoutMs: 20_000,
          intervalMs: 200,
          description: 'sentinels see the replica and each other',
        },
      );
    }
    moduleRef = await Test.createTestingModule({
      imports: [
        RedisPoolModule.forRoot({
          sentinels: sentinels.map((s) => ({ host: s.host, port: s.port })),
          sentinelName: MASTER_NAME,
          retryMaxDelayMs: 500,
        }),
      ],
    }).compile();
    await moduleRef.init();
  }, 60_000);

  afterAll(async () => {
    await moduleRef?.close();
    await Promise.all([...sentinels, replica, master].filter(Boolean).map((p) => p.stop()));
  });

  it('connects to the master named by the sentinels', async () => {
    const client = moduleRef.get(RedisPoolService).getClient();
    await waitFor(() => client.status === 'ready', { timeoutMs: 10_000 });
    await client.set('before-failover', '1');
    const role = await withClient(master, (c) => c.role());
    expect(role[0]).toBe('master');
    expect(await withClient(master, (c) => c.get('before-failover'))).toBe('1');
    const health = await moduleRef.get(RedisPoolHealthIndicator).isHealthy('redis');
    expect(health['redis']).toMatchObject({ status: 'up', topology: 'sentinel' });
  });

  it('keeps working after SENTINEL FAILOVER', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const client = moduleRef.get(RedisPoolService).getClient();
      await withClient(sentinels[0]!, (c) => c.call('SENTINEL', 'FAILOVER', MASTER_NAME));
      await waitFor(async () => (await sentinelMasterPort(sentinels[0]!)) === replica.port, {
        timeoutMs: 20_000,
        intervalMs: 100,
        description: 'sentinels promote the replica',
      });
      // Writes land on the promoted replica once the client follows the switch (the demoted
      // master drops its clients, or answers READONLY; either makes the client ask the sentinels
      // again). A write acknowledged by the old master during the switch may be lost: that is
      // Redis' asynchronous replication, so each attempt uses a fresh key.
      let attempt = 0;
      const switched = performance.now();
      await waitFor(
        async () => {
          const key = `after-failover:${attempt++}`;
          await client.set(key, 'v');
          return (await withClient(replica, (c) => c.get(key))) === 'v';
        },
        { timeoutMs: 15_000, intervalMs: 100, description: 'writes reach the new master' },
      );
      // The failover detector follows +switch-master; no waiting for the old master's demotion.
      expect(performance.now() - switched).toBeLessThan(5000);
      const stats = moduleRef.get(RedisPoolService).getPoolStats();
      expect(stats.main.connected).toBe(true);
      expect((await withClient(replica, (c) => c.role()))[0]).toBe('master');
      expect(await client.get('before-failover')).toBe('1');
    } finally {
      warn.mockRestore();
    }
  }, 45_000);
});
