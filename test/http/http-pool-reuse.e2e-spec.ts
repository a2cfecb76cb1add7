import type { Readable } from 'node:stream';

import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import {
  getHttpPoolClientToken,
  type HttpPoolClient,
  HttpPoolModule,
  HttpPoolService,
  InjectHttpPool,
} from '@nest-pools/http';
import { type HttpTestUpstream, startHttpUpstream } from '@nest-pools/testing';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';

@Injectable()
class SnippetFetcher {
  constructor(
    readonly http: HttpService,
    @InjectHttpPool('other') readonly other: HttpService,
  ) {}
}

describe('HttpPoolModule: connection reuse, limits, HttpService interop', () => {
  let upstream: HttpTestUpstream;
  let otherUpstream: HttpTestUpstream;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    upstream = await startHttpUpstream({ routes: { '/slow': { latencyMs: 40 } } });
    otherUpstream = await startHttpUpstream({ body: '{"from":"other"}' });
    moduleRef = await Test.createTestingModule({
      imports: [
        HttpPoolModule.forRoot({ baseURL: upstream.url, poolLimit: 50, limitPerHost: 10 }),
        HttpPoolModule.forRootAsync({
          name: 'other',
          useFactory: () => ({ baseURL: otherUpstream.url, limitPerHost: 2, poolLimit: 4 }),
        }),
      ],
      providers: [SnippetFetcher],
    }).compile();
    await moduleRef.init();
  });

  afterAll(async () => {
    await moduleRef?.close();
    await upstream?.close();
    await otherUpstream?.close();
  });

  beforeEach(() => upstream.resetCounters());

  it('sends N sequential requests over one connection', async () => {
    const http = moduleRef.get(HttpService);
    for (let i = 0; i < 30; i++) {
      const res = await firstValueFrom(http.get<{ path: string }>('/seq'));
      expect(res.status).toBe(200);
      expect(res.data.path).toBe('/seq');
    }
    expect(upstream.totalRequests).toBe(30);
    expect(upstream.totalConnections).toBe(1);
  });

  it('never opens more than limitPerHost sockets for 200 concurrent requests', async () => {
    const http = moduleRef.get(HttpService);
    let maxOpen = 0;
    const sampler = setInterval(() => {
      maxOpen = Math.max(maxOpen, upstream.openConnections);
    }, 2);
    const results = await Promise.all(
      Array.from({ length: 200 }, () => firstValueFrom(http.get('/slow'))),
    );
    clearInterval(sampler);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(upstream.totalConnections).toBeLessThanOrEqual(10);
    expect(maxOpen).toBeGreaterThan(1);
    expect(maxOpen).toBeLessThanOrEqual(10);
  });

  it('gives handlers injecting HttpService the pooled client, and named clients their own', async () => {
    const fetcher = moduleRef.get(SnippetFetcher);
    const client = moduleRef.get<HttpPoolClient>(getHttpPoolClientToken());
    expect(fetcher.http).toBe(client.httpService);
    expect(fetcher.http.axiosRef.defaults.adapter).toBe(client.axios.defaults.adapter);

    const res = await firstValueFrom(fetcher.other.get<{ from: string }>('/x'));
    expect(res.data).toEqual({ from: 'other' });
    expect(fetcher.other).not.toBe(fetcher.http);

    const stats = moduleRef.get(HttpPoolService).getPoolStats('other');
    expect(stats).toMatchObject({ name: 'other', limit: 4, limitPerHost: 2, transport: 'undici' });
    expect(stats.connections).toBe(1);
    expect(stats.idle).toBe(1);
    expect(stats.acquired).toBe(0);
    // The test upstream keeps idle sockets 5 s and says so in `Keep-Alive: timeout=5`.
    expect(stats.origins[0]?.upstreamKeepAliveMs).toBe(5000);
  });

  it('keeps HttpModule from @nestjs/axios usable beside it', async () => {
    @Module({ imports: [HttpModule] })
    class StockModule {}
    const stock = await Test.createTestingModule({ imports: [StockModule] }).compile();
    const res = await firstValueFrom(stock.get(HttpService).get(`${upstream.url}/stock`));
    expect(res.status).toBe(200);
    await stock.close();
  });

  it('resolves names through the DNS cache and pools per resolved address', async () => {
    const dns = await Test.createTestingModule({
      imports: [
        HttpPoolModule.forRoot({
          baseURL: `http://localhost:${upstream.port}`,
          dnsCacheTtlMs: 60_000,
        }),
      ],
    }).compile();
    await dns.init();
    const http = dns.get(HttpService);
    for (let i = 0; i < 3; i++) {
      const res = await firstValueFrom(http.get('/dns'));
      expect(res.status).toBe(200);
    }
    expect(upstream.lastRequest?.headers.host).toBe(`localhost:${upstream.port}`);
    const origins = dns
      .get(HttpPoolService)
      .getPoolStats()
      .origins.map((o) => o.origin);
    // Where localhost also resolves to ::1, undici tries it first and falls back to IPv4.
    expect(origins).toContain(`http://127.0.0.1:${upstream.port}`);
    expect(origins.every((o) => /^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/.test(o))).toBe(true);
    await dns.close();
  });

  it('records request duration and socket gauges in the shared registry', async () => {
    const http = moduleRef.get(HttpService);
    await firstValueFrom(http.get('/metered'));
    const registry = moduleRef.get<Registry>(POOL_METRICS_REGISTRY);
    const text = await registry.metrics();
    expect(text).toMatch(
      /http_client_request_duration_seconds_count\{[^}]*pool_name="default"[^}]*http_request_method="GET"[^}]*http_response_status_code="200"[^}]*error_type=""[^}]*server_address="127\.0\.0\.1"/,
    );
  });
});

describe('HttpPoolModule: connection reuse after a body cut mid-way', () => {
  let upstream: HttpTestUpstream;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    upstream = await startHttpUpstream({ routes: { '/big': { bodySize: 256 * 1024 } } });
    moduleRef = await Test.createTestingModule({
      imports: [HttpPoolModule.forRoot({ ignoreEnv: true, baseURL: upstream.url, retries: 0 })],
    }).compile();
    await moduleRef.init();
  });

  afterAll(async () => {
    await moduleRef?.close();
    await upstream?.close();
  });

  it('goes back to one connection for sequential requests after a stream is destroyed', async () => {
    // Destroying a body before its end closes its socket. undici's Agent, counting the origin's
    // sockets by origin, used to count the closed pool's late reconnect against its successor
    // and close that one in turn, so from then on every request opened a connection.
    const http = moduleRef.get(HttpService);
    const cut = await firstValueFrom(http.get<Readable>('/big', { responseType: 'stream' }));
    await new Promise((resolve) => cut.data.once('readable', resolve));
    cut.data.destroy();
    for (let i = 0; i < 6; i++) await firstValueFrom(http.get('/seq', { params: { i } }));
    const connections = upstream.requests
      .filter((r) => r.path === '/seq')
      .map((r) => r.connectionId);
    // The first requests may still ride a socket of the pool that is closing.
    expect(new Set(connections.slice(2)).size).toBe(1);
  });
});
