import { AsyncLocalStorage } from 'node:async_hooks';
import { tracingChannel } from 'node:diagnostics_channel';

import { jest } from '@jest/globals';
import { RedisPoolService } from '@nest-pools/redis';
import { waitFor } from '@nest-pools/testing';
import type { Cluster, Redis } from 'ioredis';

import {
  type RedisClusterHarness,
  type RedisHarness,
  startRedisClusterHarness,
  startRedisHarness,
} from '../support/redis.js';

/** What ioredis publishes on its `ioredis:command` tracing channel when it sends a command. */
interface CommandContext {
  command: string;
  args: string[];
}

/**
 * With auto-pipelining, ioredis sends a batch on a later tick. Tracing instrumentations (and
 * anything else reading an `AsyncLocalStorage`) see the context a command is sent in: each
 * command must be sent in the context of its own caller, not of the batch's first one, or its
 * span lands in another request's trace.
 */
describe('Redis auto-pipelining keeps each command in its caller’s async context (real redis-server)', () => {
  const caller = new AsyncLocalStorage<string>();
  const commands = tracingChannel<unknown, CommandContext>('ioredis:command');
  const sentBy = new Map<string, string | undefined>();
  const ignore = () => undefined;
  const handlers = {
    start: (context: CommandContext) => {
      if (context.command === 'get') sentBy.set(context.args[0] ?? '', caller.getStore());
    },
    end: ignore,
    asyncStart: ignore,
    asyncEnd: ignore,
    error: ignore,
  };

  beforeAll(() => commands.subscribe(handlers));
  afterAll(() => commands.unsubscribe(handlers));

  /**
   * Issues 16 GETs in one tick, each in its own context, and one more after them; expects ioredis
   * to have batched the 16 into at most `batches` pipelines, and each GET to be sent in its own
   * caller's context.
   */
  async function expectEachSentInItsContext(client: Redis | Cluster, batches: number) {
    const names = Array.from({ length: 16 }, (_, i) => `caller-${i}`);
    // Connected to every node first: ioredis reports a command written from a node's offline
    // queue when that node connects, in the connection's context rather than the sender's.
    await client.set('{ap}:value', 'v');
    await Promise.all(names.map((name) => client.get(`ap:${name}`)));
    sentBy.clear();
    const pipelines = jest.spyOn(client, 'pipeline');
    try {
      const replies = await Promise.all(
        names.map((name) => caller.run(name, () => client.get(`ap:${name}`))),
      );
      const issued = pipelines.mock.calls.length;
      const value = await caller.run('last', () => client.get('{ap}:value'));

      expect(issued).toBeGreaterThanOrEqual(1);
      expect(issued).toBeLessThanOrEqual(batches);
      expect(replies).toEqual(names.map(() => null));
      expect(value).toBe('v');
      expect(names.map((name) => sentBy.get(`ap:${name}`))).toEqual(names);
      expect(sentBy.get('{ap}:value')).toBe('last');
    } finally {
      pipelines.mockRestore();
    }
  }

  describe('standalone', () => {
    let harness: RedisHarness;

    beforeAll(async () => {
      harness = await startRedisHarness({
        pools: (redis) => [
          { name: 'batched', url: redis.url, autoPipelining: true, healthCheckIntervalMs: 0 },
          { name: 'single', url: redis.url, maxConnections: 1, healthCheckIntervalMs: 0 },
        ],
      });
    });

    afterAll(() => harness?.close());

    it('sends every command of one batch in the context it was issued in', () =>
      expectEachSentInItsContext(harness.pools.getClient('batched'), 1));

    it('runs a dedicated connection handed over by another borrower in the waiter’s context', async () => {
      const pools = harness.pools;
      sentBy.clear();
      let releaseFirst!: () => void;
      const held = new Promise<void>((resolve) => (releaseFirst = resolve));
      const first = caller.run('holder', () =>
        pools.withConnection('single', async (conn) => {
          await conn.get('dc:holder');
          await held;
        }),
      );
      await waitFor(() => sentBy.has('dc:holder'), { timeoutMs: 5000 });
      // The pool has one connection: the waiter gets it when the holder releases it.
      const second = caller.run('waiter', () =>
        pools.withConnection('single', (conn) => conn.get('dc:waiter')),
      );
      await waitFor(() => pools.getPoolStats('single').pending === 1, { timeoutMs: 5000 });
      releaseFirst();
      await Promise.all([first, second]);
      expect(sentBy.get('dc:holder')).toBe('holder');
      expect(sentBy.get('dc:waiter')).toBe('waiter');
    });
  });

  describe('cluster (3 masters on loopback)', () => {
    let harness: RedisClusterHarness;

    beforeAll(async () => {
      harness = await startRedisClusterHarness({ autoPipelining: true, healthCheckIntervalMs: 0 });
    }, 60_000);

    afterAll(() => harness?.close());

    it('sends every command of each per-node batch in the context it was issued in', async () => {
      const client = harness.moduleRef.get(RedisPoolService).getClient() as Cluster;
      await waitFor(() => client.status === 'ready', { timeoutMs: 10_000 });
      // The keys spread over the three masters: one batch per master.
      await expectEachSentInItsContext(client, 3);
    });
  });
});
