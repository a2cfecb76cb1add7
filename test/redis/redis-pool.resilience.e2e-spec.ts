import { jest } from '@jest/globals';
import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import {
  RedisOfflineQueueFullError,
  RedisPoolConnectError,
  RedisPoolHealthIndicator,
  RedisPoolModule,
  RedisPoolService,
} from '@nest-pools/redis';
import {
  getFreePort,
  RedisTestServer,
  startFaultProxy,
  startRedis,
  waitFor,
} from '@nest-pools/testing';
import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Registry } from 'prom-client';

async function poolModule(
  options: Parameters<typeof RedisPoolModule.forRoot>[0],
): Promise<TestingModule> {
  return Test.createTestingModule({ imports: [RedisPoolModule.forRoot(options)] }).compile();
}

describe('RedisPoolModule resilience (real redis-server)', () => {
  beforeAll(async () => {
    // Outages are the point of this suite; their connection warnings are expected noise.
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // The first compile in a Jest worker pays for loading Nest itself (~1 s here); boot time is
    // measured on a warm worker, as in a real process where imports are done before bootstrap.
    const warm = await poolModule({ url: 'redis://127.0.0.1:1' });
    await warm.close();
  });
  afterAll(() => jest.restoreAllMocks());

  it('boots with Redis down in under 1 s, reports down, and recovers within 2 s of the server starting', async () => {
    const port = await getFreePort('127.0.0.1');
    const server = new RedisTestServer({ port });
    const started = performance.now();
    const moduleRef = await poolModule({
      url: `redis://127.0.0.1:${port}`,
      // Recovery time is bounded by the largest reconnect delay; keep it below the 2 s budget.
      retryMaxDelayMs: 1000,
      healthTimeoutMs: 300,
      maxRetriesPerRequest: 20,
      commandTimeoutMs: 5000,
    });
    try {
      await moduleRef.init();
      expect(performance.now() - started).toBeLessThan(1000);

      const health = moduleRef.get(RedisPoolHealthIndicator);
      const down = await health.isHealthy('redis');
      expect(down['redis']).toMatchObject({
        status: 'down',
        clientStatus: expect.not.stringMatching(/^ready$/),
      });
      expect(performance.now() - started).toBeLessThan(1500);

      // Queued while down, sent after the reconnect, rejected by the server: counted once.
      const queued = moduleRef
        .get(RedisPoolService)
        .getClient()
        .call('NO-SUCH-COMMAND')
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      await server.start();
      const serverUp = performance.now();
      await waitFor(async () => (await health.isHealthy('redis'))['redis']?.status === 'up', {
        timeoutMs: 4000,
        intervalMs: 25,
        description: 'health up after the server started',
      });
      expect(performance.now() - serverUp).toBeLessThanOrEqual(2000);
      const pools = moduleRef.get(RedisPoolService);
      await pools.getClient().set('after-boot', '1');
      expect(pools.getPoolStats().main.reconnects).toBeGreaterThan(0);
      expect(String(await queued)).toMatch(/unknown command/);
      const metrics = await moduleRef.get<Registry>(POOL_METRICS_REGISTRY).metrics();
      expect(metrics).toContain(
        'pool_errors_total{pool_name="default",pool_system="redis",error_type="err"} 1\n',
      );
      expect(metrics).toMatch(
        /pool_reconnects_total\{pool_name="default",pool_system="redis"\} [1-9]/,
      );
    } finally {
      await moduleRef.close();
      await server.stop();
    }
  });

  it('bounds the offline queue: commands beyond offlineQueueMax fail at once while disconnected', async () => {
    const port = await getFreePort('127.0.0.1');
    const moduleRef = await poolModule({
      url: `redis://127.0.0.1:${port}`,
      offlineQueueMax: 5,
      commandTimeoutMs: 1000,
    });
    await moduleRef.init();
    try {
      const client = moduleRef.get(RedisPoolService).getClient();
      const started = performance.now();
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => client.get(`q${i}`).then(() => performance.now())),
      );
      const refused = results.filter(
        (r): r is PromiseRejectedResult =>
          r.status === 'rejected' && r.reason instanceof RedisOfflineQueueFullError,
      );
      expect(refused).toHaveLength(7);
      expect(String(refused[0]?.reason)).toMatch(/5 command\(s\) already wait.*offlineQueueMax/);
      // The 5 queued ones wait for the connection (and here time out), the rest never queued.
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(12);
      expect(performance.now() - started).toBeLessThan(2500);
    } finally {
      await moduleRef.close();
    }
  });

  it('fails bootstrap clearly with failFast when Redis is down', async () => {
    const port = await getFreePort('127.0.0.1');
    const moduleRef = await poolModule({
      url: `redis://:hunter2@127.0.0.1:${port}`,
      failFast: true,
      connectTimeoutMs: 500,
    });
    const err = await moduleRef.init().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RedisPoolConnectError);
    const message = (err as Error).message;
    expect(message).toContain(`127.0.0.1:${port}`);
    expect(message).toContain('failFast');
    expect(message).not.toContain('hunter2');
    await moduleRef.close();
  });

  it('keeps every acknowledged write of 2,000 SETs across a server restart; errors only during the outage', async () => {
    const server = new RedisTestServer({
      args: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    await server.start();
    const moduleRef = await poolModule({ url: server.url, retryMaxDelayMs: 500 });
    await moduleRef.init();
    const client = moduleRef.get(RedisPoolService).getClient();
    try {
      const total = 2000;
      const acked: string[] = [];
      const failures: Array<{ at: number; error: string }> = [];
      let outageStart = Number.POSITIVE_INFINITY;
      let readyAgain = Number.POSITIVE_INFINITY;
      client.on('ready', () => {
        if (performance.now() > outageStart) readyAgain = performance.now();
      });
      let restart: Promise<void> | undefined;
      let issuedDuringOutage = 0;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < total) {
          const i = next++;
          const key = `load:${i}`;
          if (i === 300) {
            outageStart = performance.now();
            restart = server.restart();
          }
          const issuedAt = performance.now();
          try {
            await client.set(key, String(i));
            if (issuedAt > outageStart && issuedAt < readyAgain) issuedDuringOutage++;
            acked.push(key);
          } catch (err) {
            failures.push({ at: performance.now(), error: (err as Error).message });
          }
          // Spread the load so that it spans the restart instead of finishing before it.
          await new Promise((r) => setTimeout(r, 2));
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      await restart;
      await waitFor(() => client.status === 'ready', { timeoutMs: 5000 });

      expect(acked.length + failures.length).toBe(total);
      expect(acked.length).toBeGreaterThan(total / 2);
      // The load really spanned the outage: writes issued while the server was down were queued
      // and acknowledged after the reconnect.
      expect(issuedDuringOutage).toBeGreaterThan(0);
      // Failures are only allowed between the restart request and the client being ready again.
      expect(readyAgain).toBeLessThan(Number.POSITIVE_INFINITY);
      for (const failure of failures) {
        expect(failure.at).toBeGreaterThanOrEqual(outageStart);
        expect(failure.at).toBeLessThanOrEqual(readyAgain + 50);
      }
      const values = await client.mget(...acked);
      const missing = acked.filter((key, n) => values[n] !== key.slice('load:'.length));
      expect(missing).toEqual([]);
    } finally {
      await moduleRef.close();
      await server.stop();
    }
  });

  it('turns a blackholed server into command timeout errors, not hangs, and health down in time', async () => {
    const server = await startRedis();
    const proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    const moduleRef = await poolModule({
      url: `redis://${proxy.host}:${proxy.port}`,
      commandTimeoutMs: 800,
      healthTimeoutMs: 300,
      retryMaxDelayMs: 200,
    });
    await moduleRef.init();
    const pools = moduleRef.get(RedisPoolService);
    const health = moduleRef.get(RedisPoolHealthIndicator);
    const client = pools.getClient();
    try {
      await client.set('k', 'v');
      expect((await health.isHealthy('redis'))['redis']?.status).toBe('up');
      await proxy.blackhole();
      // Let the cached "up" expire, then probe a connection that looks fine but never answers.
      await new Promise((r) => setTimeout(r, 300));
      const probeStarted = performance.now();
      const probes = await Promise.all([health.isHealthy('redis'), health.isHealthy('redis')]);
      const probeMs = performance.now() - probeStarted;
      expect(probes.map((p) => p['redis']?.status)).toEqual(['down', 'down']);
      expect(probeMs).toBeLessThanOrEqual(300 + 50);
      expect(String(probes[0]['redis']?.['message'])).toMatch(/timed out after 300 ms/);

      const started = performance.now();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => client.get(`k${i}`)),
      );
      const elapsed = performance.now() - started;
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      for (const r of results) {
        expect(String((r as PromiseRejectedResult).reason)).toMatch(/timed out|timeout/i);
      }
      expect(elapsed).toBeLessThan(800 + 400);

      await proxy.heal();
      await waitFor(async () => (await health.isHealthy('redis'))['redis']?.status === 'up', {
        timeoutMs: 5000,
        intervalMs: 50,
        description: 'health up after the blackhole healed',
      });
      expect(await client.get('k')).toBe('v');
    } finally {
      await moduleRef.close();
      await proxy.close();
      await server.stop();
    }
  });

  it('times commands out never early, counts each timeout once, and keeps the queue bounded', async () => {
    const server = await startRedis();
    const proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    const moduleRef = await poolModule({
      url: `redis://${proxy.host}:${proxy.port}`,
      commandTimeoutMs: 600,
      healthCheckIntervalMs: 0,
      retryMaxDelayMs: 200,
    });
    await moduleRef.init();
    const pools = moduleRef.get(RedisPoolService);
    // The main client reports how many commands its timeout sweep holds.
    const client = pools.getClient() as ReturnType<typeof pools.getClient> & {
      trackedCommands: number;
    };
    try {
      await client.ping();
      let connectionErrors = 0;
      client.on('error', () => connectionErrors++);
      await Promise.all(Array.from({ length: 5000 }, (_, i) => client.set(`t${i % 50}`, 'v')));
      // Answered commands leave the timeout queue at the next send, or at the next sweep.
      await client.get('t1');
      expect(client.trackedCommands).toBeLessThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(client.trackedCommands).toBe(0);
      await proxy.blackhole();
      const sent = Array.from({ length: 20 }, (_, i) => {
        const at = performance.now();
        return client.get(`t${i}`).then(
          () => ({ ok: true, err: undefined as unknown, waited: performance.now() - at }),
          (err: unknown) => ({ ok: false, err, waited: performance.now() - at }),
        );
      });
      const results = await Promise.all(sent);
      for (const r of results) {
        expect(r.ok).toBe(false);
        expect(String(r.err)).toMatch(/Command timed out/);
        expect(r.waited).toBeGreaterThanOrEqual(599);
        expect(r.waited).toBeLessThan(600 + 300);
      }
      // Counted once each: the 20 commands plus the connection's own errors (the socket
      // timeout that dropped the silent socket, failed reconnects).
      const registry = moduleRef.get<Registry>(POOL_METRICS_REGISTRY);
      const counted = (await registry.getSingleMetric('pool_errors_total')!.get()).values
        .filter((v) => v.labels['pool_name'] === 'default')
        .reduce((sum, v) => sum + v.value, 0);
      expect(connectionErrors).toBeGreaterThanOrEqual(1);
      expect(counted).toBe(20 + connectionErrors);
      await proxy.heal();
      await waitFor(async () => (await client.get('t1')) === 'v', {
        timeoutMs: 5000,
        intervalMs: 50,
        description: 'commands answered again after the blackhole healed',
      });
    } finally {
      await moduleRef.close();
      await proxy.close();
      await server.stop();
    }
  });
});
