import { PoolMetrics, PoolRegistry, type ShutdownCoordinator } from '@nest-pools/core';
import { type HttpPoolClient as HttpPoolClientType, parseHttpPoolConfig } from '@nest-pools/http';
import { type HttpTestUpstream, startHttpUpstream, waitFor } from '@nest-pools/testing';
import { Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';

// Internal constructor use: the client is built by the module normally; here it is driven alone.
import { HttpPoolClient } from '../../libs/http/src/http-pool.client.js';
import { RecordingCoordinator } from '../support/coordinator.js';

describe('HttpPoolClient lifecycle (local upstream)', () => {
  let upstream: HttpTestUpstream;
  const clients: HttpPoolClientType[] = [];

  function make(name: string, coordinator?: RecordingCoordinator) {
    const config = parseHttpPoolConfig(
      {},
      { name, baseURL: upstream.url, poolLimit: 4, limitPerHost: 3, retries: 0 },
    );
    const registry = new PoolRegistry<HttpPoolClientType>('HTTP');
    const client = new HttpPoolClient(
      config,
      new PoolMetrics(new Registry()),
      registry,
      coordinator as unknown as ShutdownCoordinator | undefined,
    );
    clients.push(client);
    return { client, registry };
  }

  beforeAll(async () => {
    upstream = await startHttpUpstream({ routes: { '/slow': { latencyMs: 200 } } });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(() => upstream?.close());

  it('registers by name at init and reports its figures', async () => {
    const { client, registry } = make('api');
    expect(registry.names()).toEqual([]);
    await client.onModuleInit();
    expect(registry.get('api')).toBe(client);
    expect(client.stats()).toMatchObject({
      name: 'api',
      transport: 'undici',
      limit: 4,
      limitPerHost: 3,
      connections: 0,
      acquired: 0,
      pending: 0,
      closed: false,
    });

    upstream.resetCounters();
    const res = await firstValueFrom(client.httpService.get('/one'));
    expect(res.status).toBe(200);
    expect(upstream.totalConnections).toBe(1);
    expect(client.stats()).toMatchObject({
      connections: 1,
      idle: 1,
      acquired: 0,
      recent: { requests: 1, failed: 0, errorRatio: 0 },
    });
    expect(client.describeOpen()).toEqual(['0 requests in flight, 1 sockets open']);
  });

  it('describes requests in flight, and closes its sockets once they finish', async () => {
    const { client, registry } = make('busy');
    await client.onModuleInit();
    upstream.resetCounters();
    const inFlight = firstValueFrom(client.httpService.get('/slow'));
    await new Promise<void>((resolve) => {
      const check = () => (upstream.totalRequests > 0 ? resolve() : setImmediate(check));
      check();
    });
    expect(client.describeOpen()).toEqual(['1 requests in flight, 1 sockets open']);

    await client.onApplicationShutdown();
    expect((await inFlight).status).toBe(200);
    expect(client.stats()).toMatchObject({ closed: true, acquired: 0, connections: 0 });
    // The upstream sees the FIN a moment later: wait for its own count, not for time.
    await waitFor(() => upstream.openConnections === 0, { description: 'upstream sockets closed' });
    expect(registry.names()).toEqual([]);
  });

  it('with a coordinator, registers in the http phase at order 100 and closes through it', async () => {
    const coordinator = new RecordingCoordinator();
    const { client, registry } = make('coord', coordinator);
    await client.onModuleInit();
    expect(coordinator.registered).toHaveLength(1);
    expect(coordinator.registered[0]).toMatchObject({
      name: 'http "coord"',
      phase: 'http',
      order: 100,
    });
    await client.onApplicationShutdown();
    expect(coordinator.closeAllCalls).toBe(1);
    expect(coordinator.unregistered).toBe(1);
    expect(client.stats().closed).toBe(true);
    expect(registry.names()).toEqual([]);
  });
});
