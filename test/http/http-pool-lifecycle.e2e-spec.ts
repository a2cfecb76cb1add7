import { ShutdownCoordinator, ShutdownModule } from '@nest-pools/core';
import {
  getHttpPoolClientToken,
  type HttpPoolClient,
  HttpPoolHealthIndicator,
  HttpPoolModule,
  HttpPoolService,
} from '@nest-pools/http';
import { type HttpTestUpstream, startHttpUpstream } from '@nest-pools/testing';
import { HttpService } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import { AxiosError } from 'axios';
import { firstValueFrom } from 'rxjs';

describe('HttpPoolModule: health, shutdown, http transport', () => {
  let upstream: HttpTestUpstream;

  beforeAll(async () => {
    upstream = await startHttpUpstream({
      routes: {
        '/health': { status: 200 },
        '/health-broken': { status: 503 },
        '/boom': { status: 500 },
        '/slow': { latencyMs: 300 },
        '/very-slow': { latencyMs: 3000 },
      },
    });
  });

  afterAll(async () => {
    await upstream?.close();
  });

  it('reports up/down from a health URL and degraded from a high pool error ratio', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        HttpPoolModule.forRoot({ baseURL: upstream.url, healthUrl: '/health' }),
        HttpPoolModule.forRoot({
          name: 'broken',
          baseURL: upstream.url,
          healthUrl: '/health-broken',
        }),
        HttpPoolModule.forRoot({ name: 'plain', baseURL: upstream.url, retries: 0 }),
      ],
    }).compile();
    await moduleRef.init();
    const health = moduleRef.get(HttpPoolHealthIndicator);

    const up = await health.isHealthy('api');
    expect(up.api).toMatchObject({ status: 'up', mode: 'url', statusCode: 200 });

    const down = await health.isHealthy('broken', { name: 'broken' });
    expect(down.broken?.status).toBe('down');
    const optional = await health.isHealthy('broken', { name: 'broken', optional: true });
    expect(optional.broken?.status).toBe('degraded');

    const plain = moduleRef.get<HttpService>('HttpPool(plain)');
    const before = await health.isHealthy('plain', { name: 'plain' });
    expect(before.plain).toMatchObject({ status: 'up', mode: 'pool' });
    for (let i = 0; i < 12; i++) {
      await firstValueFrom(plain.get('/boom')).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 1100)); // past the health cache
    const degraded = await health.isHealthy('plain', { name: 'plain' });
    expect(degraded.plain?.status).toBe('degraded');
    expect(moduleRef.get(HttpPoolService).getPoolStats('plain').recent.errorRatio).toBe(1);

    const missing = await health.isHealthy('nope', { name: 'nope' });
    expect(missing.nope?.status).toBe('down');
    await moduleRef.close();
  });

  it('lets in-flight requests finish at shutdown, then refuses new ones and closes sockets', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ShutdownModule.forRoot(), HttpPoolModule.forRoot({ baseURL: upstream.url })],
    }).compile();
    await moduleRef.init();
    const http = moduleRef.get(HttpService);
    const client = moduleRef.get<HttpPoolClient>(getHttpPoolClientToken());
    expect(moduleRef.get(ShutdownCoordinator).describeOpen().join(' ')).toContain('http');

    const inFlight = firstValueFrom(http.get('/slow'));
    await new Promise((r) => setTimeout(r, 50));
    await moduleRef.close();
    expect((await inFlight).status).toBe(200);

    const refused = await firstValueFrom(http.get('/slow')).catch((e: unknown) => e);
    expect((refused as AxiosError).code).toBe('ERR_POOL_CLOSED');
    expect(client.stats()).toMatchObject({ closed: true, connections: 0 });
  });

  it('destroys sockets of requests still running after shutdownTimeoutMs', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HttpPoolModule.forRoot({ baseURL: upstream.url, shutdownTimeoutMs: 200 })],
    }).compile();
    await moduleRef.init();
    const http = moduleRef.get(HttpService);
    const stuck = firstValueFrom(http.get('/very-slow')).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    await moduleRef.close();
    expect(performance.now() - started).toBeLessThan(1500);
    expect(await stuck).toBeInstanceOf(AxiosError);
  });

  it('runs the same client on the stock http adapter with keep-alive agents (transport: http)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        HttpPoolModule.forRoot({
          baseURL: upstream.url,
          transport: 'http',
          limitPerHost: 4,
          retries: 1,
          retryBackoffMs: 10,
        }),
      ],
    }).compile();
    await moduleRef.init();
    upstream.resetCounters();
    const http = moduleRef.get(HttpService);
    for (let i = 0; i < 10; i++) await firstValueFrom(http.get('/seq'));
    expect(upstream.totalConnections).toBe(1);
    await Promise.all(Array.from({ length: 40 }, () => firstValueFrom(http.get('/slow'))));
    expect(upstream.totalConnections).toBeLessThanOrEqual(4);
    const stats = moduleRef.get(HttpPoolService).getPoolStats();
    expect(stats).toMatchObject({ transport: 'http', limitPerHost: 4 });
    expect(stats.idle).toBeGreaterThan(0);
    const err = await firstValueFrom(http.get('/boom')).catch((e: unknown) => e);
    expect((err as AxiosError).response?.status).toBe(500);
    await moduleRef.close();
    expect(moduleRef.get<HttpPoolClient>(getHttpPoolClientToken()).stats().connections).toBe(0);
  });
});
