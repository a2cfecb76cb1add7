import { RedisCommandInterruptedError, RedisPoolModule, RedisPoolService } from '@nest-pools/redis';
import { type RedisTestServer, startRedis, waitFor } from '@nest-pools/testing';
import type { DynamicModule } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';

/** Reconnects fast; waits through the restart rather than failing queued commands. */
const RECONNECT = {
  retryBaseDelayMs: 20,
  retryMaxDelayMs: 200,
  maxRetriesPerRequest: 10_000,
  healthCheckIntervalMs: 0,
} as const;

/** Resolves on the next 'ready' (events.once would reject on the 'error's of the outage). */
function nextReady(client: Redis): Promise<void> {
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

async function numsub(admin: Redis, channel: string): Promise<number> {
  const reply = (await admin.pubsub('NUMSUB', channel)) as [string, number];
  return Number(reply[1]);
}

/** A real server, a module of pools built on its URL, and an admin client of the test's own. */
interface Setup {
  redis: RedisTestServer;
  moduleRef: TestingModule;
  pools: RedisPoolService;
  admin: Redis;
}

/** Starts it all; `stop` in `afterAll` tears it all down, whatever got started. */
function useServerAndPools(pools: (url: string) => DynamicModule[]): Setup {
  const setup = {} as Setup;
  beforeAll(async () => {
    setup.redis = await startRedis();
    setup.moduleRef = await Test.createTestingModule({ imports: pools(setup.redis.url) }).compile();
    await setup.moduleRef.init();
    setup.pools = setup.moduleRef.get(RedisPoolService);
    setup.admin = new Redis(setup.redis.url, {
      retryStrategy: () => 20,
      maxRetriesPerRequest: null,
    });
  });
  afterAll(async () => {
    setup.admin?.disconnect();
    await setup.moduleRef?.close();
    await setup.redis?.stop();
  });
  return setup;
}

describe('RedisPoolService.subscriber (real redis-server, restarted)', () => {
  const setup = useServerAndPools((url) => [
    RedisPoolModule.forRoot({ name: 'live', url, ...RECONNECT }),
  ]);

  it('is one connection per pool, opened lazily, outside the dedicated pool', async () => {
    const { pools } = setup;
    const sub = pools.subscriber('live') as Redis;
    expect(pools.subscriber('live')).toBe(sub);
    if (sub.status !== 'ready') await nextReady(sub);
    expect(await sub.client('GETNAME')).toBe('nest-pools:live:subscriber');
    expect(pools.getPoolStats('live')).toMatchObject({ created: 0, inUse: 0 });
  });

  it('subscribes its channels and patterns again after a server restart', async () => {
    const { pools, admin, redis } = setup;
    const sub = pools.subscriber('live') as Redis;
    const messages: string[] = [];
    sub.on('message', (channel: string, message: string) => messages.push(`${channel}:${message}`));
    sub.on('pmessage', (_p: string, channel: string, message: string) =>
      messages.push(`p:${channel}:${message}`),
    );
    await sub.subscribe('events');
    await sub.psubscribe('alerts.*');
    expect(await admin.publish('events', 'before')).toBe(1);

    const reconnected = nextReady(sub);
    await redis.restart();
    await reconnected;
    // 'ready' is when ioredis sends SUBSCRIBE/PSUBSCRIBE again; the server counts them when done.
    await waitFor(async () => (await numsub(admin, 'events')) === 1, {
      description: 'events resubscribed',
    });
    await waitFor(async () => Number(await admin.pubsub('NUMPAT')) === 1, {
      description: 'alerts.* resubscribed',
    });

    const delivered = new Promise<void>((resolve) =>
      sub.on('pmessage', (_p: string, _c: string, m: string) => m === 'after' && resolve()),
    );
    expect(await admin.publish('events', 'after')).toBe(1);
    expect(await admin.publish('alerts.disk', 'after')).toBe(1);
    await delivered;
    expect(messages).toEqual(['events:before', 'events:after', 'p:alerts.disk:after']);
    expect(pools.getPoolStats('live').main.reconnects).toBeGreaterThan(0);
  });
});

describe('REDIS_RESEND_UNFULFILLED across a server restart (real redis-server)', () => {
  const setup = useServerAndPools((url) => {
    const common = { url, commandTimeoutMs: 60_000, ...RECONNECT };
    return [
      RedisPoolModule.forRoot({ name: 'resend', resendUnfulfilled: true, ...common }),
      RedisPoolModule.forRoot({ name: 'once', resendUnfulfilled: false, ...common }),
    ];
  });

  it('replays an INCR in flight with true (at-least-once), fails it clearly with false', async () => {
    const { pools, admin, redis } = setup;
    const resend = pools.getClient('resend');
    const once_ = pools.getClient('once');
    await Promise.all([resend.ping(), once_.ping()]);
    // Writes wait on the server unexecuted: the INCRs are written, and no reply can come.
    await admin.client('PAUSE', 60_000, 'WRITE');
    const replayed = resend.incr('counter:resend');
    const interrupted = once_.incr('counter:once').catch((err: unknown) => err);
    await waitFor(async () => /blocked_clients:2\b/.test(await admin.info('clients')), {
      description: 'both INCRs held by CLIENT PAUSE',
    });

    // No persistence: the restarted server starts empty, so a value counts what ran after it.
    await redis.restart();

    await expect(replayed).resolves.toBe(1);
    const err = await interrupted;
    expect(err).toBeInstanceOf(RedisCommandInterruptedError);
    expect((err as Error).message).toMatch(/"incr".*REDIS_RESEND_UNFULFILLED.*false/s);
    expect(await admin.get('counter:resend')).toBe('1');
    expect(await admin.get('counter:once')).toBeNull();
    // The client itself recovered.
    expect(await once_.incr('counter:once')).toBe(1);
  });
});

describe('subscriber shutdown', () => {
  it('closes with the pool and is refused afterwards', async () => {
    const redis = await startRedis();
    const admin = new Redis(redis.url);
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [RedisPoolModule.forRoot({ name: 'short', url: redis.url, ...RECONNECT })],
      }).compile();
      await moduleRef.init();
      const pools = moduleRef.get(RedisPoolService);
      const sub = pools.subscriber('short') as Redis;
      await sub.subscribe('bye');
      expect(await numsub(admin, 'bye')).toBe(1);
      await moduleRef.close();
      expect(sub.status).toBe('end');
      await waitFor(async () => (await numsub(admin, 'bye')) === 0, {
        description: 'subscriber gone on the server',
      });
      expect(() => pools.subscriber('short')).toThrow(/"short" does not exist/);
    } finally {
      admin.disconnect();
      await redis.stop();
    }
  });
});
