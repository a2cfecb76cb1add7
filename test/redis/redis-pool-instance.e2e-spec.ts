import { PoolMetrics, PoolRegistry, type ShutdownCoordinator } from '@nest-pools/core';
import { parseRedisPoolConfig, RedisPoolConnectError } from '@nest-pools/redis';
import { getFreePort, type RedisTestServer, startRedis, waitFor } from '@nest-pools/testing';
import { Registry } from 'prom-client';

// Internal to the lib (not in its barrel), so reached by path; it needs a real server, hence e2e.
import { RedisPoolInstance } from '../../libs/redis/src/redis-pool.instance.js';
import { RecordingCoordinator } from '../support/coordinator.js';
import { poolConnections } from '../support/redis.js';

describe('RedisPoolInstance lifecycle (real redis-server)', () => {
  let server: RedisTestServer;
  const instances: RedisPoolInstance[] = [];

  function make(
    name: string,
    options: Record<string, unknown>,
    coordinator?: RecordingCoordinator,
  ): { instance: RedisPoolInstance; registry: PoolRegistry<RedisPoolInstance> } {
    const config = parseRedisPoolConfig(
      {},
      { name, url: server.url, healthCheckIntervalMs: 0, ...options },
    );
    const registry = new PoolRegistry<RedisPoolInstance>('Redis');
    const instance = new RedisPoolInstance(
      name,
      config,
      new PoolMetrics(new Registry()),
      registry,
      coordinator as unknown as ShutdownCoordinator | undefined,
    );
    instances.push(instance);
    return { instance, registry };
  }

  beforeAll(async () => {
    server = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((instance) => instance.close()));
  });
  afterAll(() => server?.stop());

  it('registers by name at init and reports stats and health of a live pool', async () => {
    const { instance, registry } = make('alone', { maxConnections: 7 });
    expect(registry.names()).toEqual([]);
    await instance.onModuleInit();
    expect(registry.get('alone')).toBe(instance);
    await waitFor(() => instance.stats().main.connected, { description: 'main client ready' });

    expect(instance.stats()).toMatchObject({
      name: 'alone',
      topology: 'standalone',
      created: 0,
      inUse: 0,
      max: 7,
      main: { status: 'ready', connected: true, offlineQueue: 0 },
      breaker: 'closed',
    });
    const health = await instance.checkHealth();
    expect(health.status).toBe('up');
    expect(health.error).toBeUndefined();
    expect(instance.describeOpen()).toEqual(['Redis pool "alone" main client (ready)']);
    expect(await poolConnections(server, 'nest-pools:alone:')).toEqual(['nest-pools:alone:main']);
  });

  it('without a coordinator, shutdown closes the pool itself and unregisters it', async () => {
    const { instance, registry } = make('solo', {});
    await instance.onModuleInit();
    await waitFor(() => instance.stats().main.connected, { description: 'main client ready' });
    await instance.onApplicationShutdown();
    expect(registry.names()).toEqual([]);
    expect(instance.describeOpen()).toEqual([]);
    expect(await poolConnections(server, 'nest-pools:solo:')).toEqual([]);
  });

  it('with a coordinator, registers in the redis phase at order 200 and shuts down through it', async () => {
    const coordinator = new RecordingCoordinator();
    const { instance, registry } = make('coord', {}, coordinator);
    await instance.onModuleInit();
    expect(coordinator.registered).toHaveLength(1);
    expect(coordinator.registered[0]).toMatchObject({
      name: 'redis "coord"',
      phase: 'redis',
      order: 200,
    });
    await waitFor(() => instance.stats().main.connected, { description: 'main client ready' });

    await instance.onApplicationShutdown();
    expect(coordinator.closeAllCalls).toBe(1);
    expect(coordinator.unregistered).toBe(1);
    expect(registry.names()).toEqual([]);
    expect(await poolConnections(server, 'nest-pools:coord:')).toEqual([]);
  });

  it('with failFast, a pool that cannot connect fails init, unregisters and closes', async () => {
    const coordinator = new RecordingCoordinator();
    const port = await getFreePort();
    const { instance, registry } = make(
      'eager',
      { url: `redis://127.0.0.1:${port}`, failFast: true, connectTimeoutMs: 300 },
      coordinator,
    );
    const error = await instance.onModuleInit().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(RedisPoolConnectError);
    expect(error).toMatchObject({ poolName: 'eager' });
    expect(registry.names()).toEqual([]);
    expect(coordinator.unregistered).toBe(1);
    // Closed: nothing left open (ioredis keeps a cancelled reconnect's status, see disconnectAndWait).
    expect(instance.describeOpen()).toEqual([]);
  });
});
