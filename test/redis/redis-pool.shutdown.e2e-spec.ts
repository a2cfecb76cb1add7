import { jest } from '@jest/globals';
import { ShutdownCoordinator, ShutdownModule } from '@nest-pools/core';
import { RedisPoolModule, RedisPoolService } from '@nest-pools/redis';
import { getFreePort, type RedisTestServer, startRedis, waitFor } from '@nest-pools/testing';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';

import { poolConnections } from '../support/redis.js';

describe('RedisPoolModule shutdown', () => {
  let server: RedisTestServer;

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await server.stop();
  });

  it('closes through the ShutdownCoordinator in the redis phase, cutting a connection still lent at the deadline', async () => {
    const register = jest.spyOn(ShutdownCoordinator.prototype, 'register');
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const moduleRef = await Test.createTestingModule({
      imports: [
        ShutdownModule.forRoot({ drainDelayMs: 0 }),
        RedisPoolModule.forRoot({ name: 'jobs', url: server.url, shutdownTimeoutMs: 300 }),
      ],
    }).compile();
    await moduleRef.init();
    expect(register).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'redis "jobs"', phase: 'redis', order: 200 }),
    );
    const pools = moduleRef.get(RedisPoolService);
    const main = pools.getClient('jobs');
    await main.set('x', '1');
    const released = await pools.acquire('jobs');
    await pools.release(released);
    const leaked = await pools.acquire('jobs');
    expect(await poolConnections(server)).toEqual(
      expect.arrayContaining(['nest-pools:jobs:main', 'nest-pools:jobs:dedicated']),
    );

    const started = performance.now();
    await moduleRef.close();
    const elapsed = performance.now() - started;
    // The drain waited for the lent connection up to shutdownTimeoutMs, then cut it.
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2000);
    expect(main.status).toBe('end');
    expect(leaked.status).toBe('end');
    expect(await poolConnections(server)).toEqual([]);
    expect(() => pools.getPoolStats('jobs')).toThrow(/does not exist/);
  });

  it('closes on its own without a coordinator: QUIT, then disconnect; idle dedicated connections drained', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RedisPoolModule.forRoot({ url: server.url })],
    }).compile();
    await moduleRef.init();
    const pools = moduleRef.get(RedisPoolService);
    await pools.withConnection('default', (c) => c.ping());
    const main = pools.getClient();
    await main.ping();
    expect((await poolConnections(server)).sort()).toEqual([
      'nest-pools:default:dedicated',
      'nest-pools:default:main',
    ]);
    const started = performance.now();
    await moduleRef.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(main.status).toBe('end');
    expect(await poolConnections(server)).toEqual([]);
    await expect(main.get('x')).rejects.toThrow(/Connection is closed/);
  });

  it('closes at once while Redis is unreachable (nothing to QUIT, reconnect timer cleared)', async () => {
    const port = await getFreePort('127.0.0.1');
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const moduleRef = await Test.createTestingModule({
      imports: [RedisPoolModule.forRoot({ url: `redis://127.0.0.1:${port}` })],
    }).compile();
    await moduleRef.init();
    const main = moduleRef.get(RedisPoolService).getClient();
    await waitFor(() => main.status === 'reconnecting', { timeoutMs: 2000 });
    const started = performance.now();
    await moduleRef.close();
    expect(performance.now() - started).toBeLessThan(300);
    // No reconnect attempt happens after close.
    await new Promise((r) => setTimeout(r, 400));
    expect(main.status).not.toBe('ready');
    expect(main.status).not.toBe('connecting');
  });
});
