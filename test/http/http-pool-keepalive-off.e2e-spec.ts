import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import { HttpPoolModule, type HttpTransport } from '@nest-pools/http';
import { type HttpTestUpstream, startHttpUpstream } from '@nest-pools/testing';
import { HttpService } from '@nestjs/axios';
import { ConfigModule } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';

describe('HttpPoolModule: keep-alive off (HTTP_KEEPALIVE_TIMEOUT=0) and pool metrics off', () => {
  let upstream: HttpTestUpstream;

  beforeAll(async () => {
    upstream = await startHttpUpstream();
  });

  afterAll(async () => {
    await upstream?.close();
  });

  async function clientWith(env: Record<string, string>): Promise<TestingModule> {
    // The variables as ConfigService hands them over (the documented env path), not process.env.
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, ignoreEnvVars: true, load: [() => env] }),
        HttpPoolModule.forRootAsync(),
      ],
    }).compile();
    await moduleRef.init();
    return moduleRef;
  }

  it.each<HttpTransport>(['undici', 'http'])(
    'opens and closes one connection per request on the %s transport',
    async (transport) => {
      const moduleRef = await clientWith({
        HTTP_BASE_URL: upstream.url,
        HTTP_KEEPALIVE_TIMEOUT: '0',
        HTTP_TRANSPORT: transport,
      });
      try {
        upstream.resetCounters();
        const http = moduleRef.get(HttpService);
        for (let i = 0; i < 5; i++) {
          expect((await firstValueFrom(http.get('/seq'))).status).toBe(200);
        }
        expect(upstream.totalRequests).toBe(5);
        expect(upstream.totalConnections).toBe(5);
      } finally {
        await moduleRef.close();
      }
    },
  );

  it('keeps reusing connections with the default keep-alive timeout', async () => {
    const moduleRef = await clientWith({ HTTP_BASE_URL: upstream.url });
    try {
      upstream.resetCounters();
      const http = moduleRef.get(HttpService);
      for (let i = 0; i < 5; i++) await firstValueFrom(http.get('/seq'));
      expect(upstream.totalConnections).toBe(1);
    } finally {
      await moduleRef.close();
    }
  });

  it('records and exports no metrics of a client with HTTP_POOL_METRICS=false', async () => {
    const on = await clientWith({ HTTP_BASE_URL: upstream.url });
    const off = await clientWith({ HTTP_BASE_URL: upstream.url, HTTP_POOL_METRICS: 'false' });
    try {
      await firstValueFrom(on.get(HttpService).get('/m'));
      await firstValueFrom(off.get(HttpService).get('/m'));
      const durations = async (ref: TestingModule) =>
        (await ref.get<Registry>(POOL_METRICS_REGISTRY).getMetricsAsJSON()).find(
          (m) => m.name === 'http_client_request_duration_seconds',
        )?.values ?? [];
      expect((await durations(on)).length).toBeGreaterThan(0);
      expect(await durations(off)).toEqual([]);
    } finally {
      await on.close();
      await off.close();
    }
  });
});
