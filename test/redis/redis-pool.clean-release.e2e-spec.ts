import type { RedisPoolClient, RedisPoolService } from '@nest-pools/redis';
import { waitFor } from '@nest-pools/testing';
import { Redis } from 'ioredis';

import { type RedisHarness, startRedisHarness } from '../support/redis.js';

/** The pool's configured db: a reset must come back here, not to db 0. */
const DB = 2;
const NAME = 'nest-pools:clean:dedicated';

/**
 * What a borrower leaves on a dedicated connection must not reach the next borrower. The pool
 * holds one connection, so the next borrower gets the same socket when it was reset (same
 * `CLIENT ID`) and a new one when it was destroyed.
 */
describe('Redis dedicated connections are released clean (real redis-server)', () => {
  let harness: RedisHarness;
  let pools: RedisPoolService;
  let admin: Redis;

  beforeAll(async () => {
    harness = await startRedisHarness({
      pools: (redis) => [
        { name: 'clean', url: `${redis.url}/${DB}`, maxConnections: 1, healthCheckIntervalMs: 0 },
      ],
    });
    pools = harness.pools;
    admin = new Redis(`${harness.server.url}/${DB}`);
  });

  afterAll(async () => {
    admin?.disconnect();
    await harness?.close();
  });

  beforeEach(() => admin.flushall());

  const idOf = async (conn: RedisPoolClient): Promise<number> => Number(await conn.client('ID'));

  /** Lends the connection to `leave` (which leaves state behind), then to `check`. */
  async function twoBorrowers<T>(
    leave: (conn: RedisPoolClient) => Promise<unknown>,
    check: (conn: RedisPoolClient) => Promise<T>,
  ): Promise<{ first: number; second: number; result: T }> {
    const first = await pools.withConnection('clean', async (conn) => {
      const id = await idOf(conn);
      await leave(conn);
      return id;
    });
    return pools.withConnection('clean', async (conn) => ({
      first,
      second: await idOf(conn),
      result: await check(conn),
    }));
  }

  /** Server-side: whether a client of this id is still connected. */
  async function connected(id: number): Promise<boolean> {
    const list = String(await admin.client('LIST'));
    return list.split('\n').some((line) => line.startsWith(`id=${id} `));
  }

  const stats = () => pools.getPoolStats('clean');

  it('reuses a connection nobody changed as it is', async () => {
    const before = stats();
    const { first, second } = await twoBorrowers(
      (conn) => conn.set('k', 'v'),
      (conn) => conn.get('k'),
    );
    expect(second).toBe(first);
    expect(stats().resetOnRelease).toBe(before.resetOnRelease);
    expect(stats().destroyedOnRelease).toBe(before.destroyedOnRelease);
  });

  it('UNWATCHes a WATCH left open: the next EXEC is not aborted by the old watch', async () => {
    const before = stats().resetOnRelease;
    const { first, second, result } = await twoBorrowers(
      async (conn) => {
        await conn.watch('balance');
        await admin.set('balance', 'changed behind the watch');
      },
      (conn) => conn.multi().set('balance', '10').exec(),
    );
    expect(second).toBe(first);
    expect(result).toEqual([[null, 'OK']]);
    expect(await admin.get('balance')).toBe('10');
    expect(stats().resetOnRelease).toBe(before + 1);
  });

  it('DISCARDs an open MULTI: the next commands run instead of being QUEUED', async () => {
    const { first, second, result } = await twoBorrowers(
      async (conn) => {
        await conn.multi({ pipeline: false });
        expect(await conn.set('queued', 'never')).toBe('QUEUED');
      },
      async (conn) => [await conn.set('now', 'yes'), await conn.get('queued')],
    );
    expect(second).toBe(first);
    expect(result).toEqual(['OK', null]);
    expect(await admin.get('now')).toBe('yes');
    expect(await admin.get('queued')).toBeNull();
  });

  it('SELECTs the configured db again after a SELECT 5', async () => {
    await admin.set('where', `db${DB}`);
    const { first, second, result } = await twoBorrowers(
      async (conn) => {
        await conn.select(5);
        await conn.set('where', 'db5');
      },
      async (conn) => [await conn.get('where'), String(await conn.client('INFO'))],
    );
    expect(second).toBe(first);
    expect(result[0]).toBe(`db${DB}`);
    expect(result[1]).toContain(` db=${DB} `);
  });

  it('restores the connection name after CLIENT SETNAME', async () => {
    const { first, second, result } = await twoBorrowers(
      (conn) => conn.client('SETNAME', 'borrowed-and-renamed'),
      (conn) => conn.client('GETNAME'),
    );
    expect(second).toBe(first);
    expect(result).toBe(NAME);
  });

  it('resets several leftovers in one release', async () => {
    const { first, second, result } = await twoBorrowers(
      async (conn) => {
        await conn.select(7);
        await conn.client('SETNAME', 'x');
        await conn.watch('a');
      },
      async (conn) => String(await conn.client('INFO')),
    );
    expect(second).toBe(first);
    expect(result).toContain(` db=${DB} `);
    expect(result).toContain(` name=${NAME} `);
  });

  it('destroys a connection left in SUBSCRIBE (RESP3 keeps ioredis mode "normal")', async () => {
    const before = stats().destroyedOnRelease;
    const { first, second } = await twoBorrowers(
      async (conn) => {
        await conn.subscribe('news');
        expect(await admin.pubsub('NUMSUB', 'news')).toEqual(['news', 1]);
      },
      (conn) => conn.ping(),
    );
    expect(second).not.toBe(first);
    expect(stats().destroyedOnRelease).toBe(before + 1);
    await waitFor(async () => !(await connected(first)), { description: 'subscriber gone' });
    expect(await admin.pubsub('NUMSUB', 'news')).toEqual(['news', 0]);
  });

  it('destroys a connection left in PSUBSCRIBE', async () => {
    const { first, second } = await twoBorrowers(
      async (conn) => {
        await conn.psubscribe('news.*');
        expect(await admin.pubsub('NUMPAT')).toBe(1);
      },
      (conn) => conn.ping(),
    );
    expect(second).not.toBe(first);
    await waitFor(async () => !(await connected(first)), { description: 'psubscriber gone' });
    expect(await admin.pubsub('NUMPAT')).toBe(0);
  });

  it('destroys a connection left in MONITOR', async () => {
    const { first, second, result } = await twoBorrowers(
      async (conn) => {
        expect(await conn.call('MONITOR')).toBe('OK');
        expect(String(await admin.client('LIST'))).toMatch(/ flags=O /);
      },
      (conn) => conn.set('after', 'monitor'),
    );
    expect(second).not.toBe(first);
    expect(result).toBe('OK');
    await waitFor(async () => !(await connected(first)), { description: 'monitor gone' });
    expect(String(await admin.client('LIST'))).not.toMatch(/ flags=O /);
  });

  it('destroys a connection whose blocking command was given up on: its BLPOP cannot steal the next job', async () => {
    let abandoned: Promise<unknown> | undefined;
    const { first, second } = await twoBorrowers(
      async (conn) => {
        // What a caller's timeout does: stop waiting, leaving BLPOP on the socket.
        abandoned = conn.blpop('jobs', 0).catch((err: unknown) => err);
        await waitFor(async () => /blocked_clients:1\b/.test(await admin.info('clients')), {
          description: 'BLPOP blocked on the server',
        });
      },
      (conn) => conn.ping(),
    );
    expect(second).not.toBe(first);
    await expect(abandoned).resolves.toBeInstanceOf(Error);
    await waitFor(async () => !(await connected(first)), { description: 'blocked client gone' });
    await admin.rpush('jobs', 'job-1');
    expect(await admin.lrange('jobs', 0, -1)).toEqual(['job-1']);
  });
});
