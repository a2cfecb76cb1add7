import { InjectHttpPool } from '@nest-pools/http';
import type { HttpTestUpstream } from '@nest-pools/testing';
import { HttpService } from '@nestjs/axios';
import { Injectable } from '@nestjs/common';
import { AxiosError } from 'axios';
import { firstValueFrom } from 'rxjs';

import { type HttpHarness, startHttpHarness } from '../support/http.js';

@Injectable()
class Clients {
  constructor(
    readonly http: HttpService,
    @InjectHttpPool('optin') readonly optIn: HttpService,
  ) {}
}

describe('HttpPoolModule: retry rules', () => {
  const freshConnections = new Set<number>();
  let harness: HttpHarness;
  let upstream: HttpTestUpstream;
  let clients: Clients;

  beforeAll(async () => {
    const base = { retries: 2, retryBackoffMs: 20, retryAfterMaxMs: 5000 };
    harness = await startHttpHarness({
      upstream: {
        routes: {
          '/busy': { status: [503, 200], headers: { 'retry-after': '1' } },
          '/post-busy': { status: [503, 200] },
          '/key-busy': { status: [502, 200] },
          '/optin-busy': { status: [504, 201] },
          '/always-503': { status: 503 },
          '/too-long': { status: [429, 200], headers: { 'retry-after': '120' } },
          '/cut': { bodySize: 64 * 1024, reset: 'mid-response' },
          '/post-cut': { reset: 'before-response' },
          // The keep-alive race made deterministic: a request arriving on a reused connection finds
          // it closed (the upstream's idle timer fired as the request was sent).
          '/reuse-closed': (req, res, ctx) => {
            if (freshConnections.has(ctx.record.connectionId)) {
              req.socket.destroy();
              return;
            }
            freshConnections.add(ctx.record.connectionId);
            res.end('ok');
          },
        },
      },
      pools: ({ url: baseURL }) => [
        { baseURL, ...base },
        { name: 'optin', baseURL, ...base, retryNonIdempotent: true },
      ],
      providers: [Clients],
    });
    upstream = harness.upstream;
    clients = harness.moduleRef.get(Clients);
  });

  afterAll(() => harness?.close());

  beforeEach(() => upstream.resetCounters());

  const count = (path: string) => upstream.requests.filter((r) => r.path === path).length;

  it('retries a GET on 503 after the Retry-After delay (~1 s)', async () => {
    const started = performance.now();
    const res = await firstValueFrom(clients.http.get('/busy'));
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(count('/busy')).toBe(2);
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(2500);
  });

  it('never retries a POST, but does with an Idempotency-Key or a client opt-in', async () => {
    const post = await firstValueFrom(clients.http.post('/post-busy', { a: 1 })).catch(
      (e: unknown) => e,
    );
    expect(post).toBeInstanceOf(AxiosError);
    expect((post as AxiosError).response?.status).toBe(503);
    expect(count('/post-busy')).toBe(1);

    const keyed = await firstValueFrom(
      clients.http.post('/key-busy', { a: 1 }, { headers: { 'Idempotency-Key': 'k-1' } }),
    );
    expect(keyed.status).toBe(200);
    expect(count('/key-busy')).toBe(2);

    const optIn = await firstValueFrom(clients.optIn.patch('/optin-busy', { a: 1 }));
    expect(optIn.status).toBe(201);
    expect(count('/optin-busy')).toBe(2);
  });

  it('never retries a POST whose connection was reset', async () => {
    const err = await firstValueFrom(clients.http.post('/post-cut', { a: 1 })).catch(
      (e: unknown) => e,
    );
    expect((err as AxiosError).code).toBe('ECONNRESET');
    expect(count('/post-cut')).toBe(1);
  });

  it('gives up after `retries` and returns the last failure', async () => {
    const err = await firstValueFrom(clients.http.get('/always-503')).catch((e: unknown) => e);
    expect((err as AxiosError).response?.status).toBe(503);
    expect(count('/always-503')).toBe(3);
  });

  it('does not wait for a Retry-After above retryAfterMaxMs', async () => {
    const started = performance.now();
    const err = await firstValueFrom(clients.http.get('/too-long')).catch((e: unknown) => e);
    expect((err as AxiosError).response?.status).toBe(429);
    expect(count('/too-long')).toBe(1);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('retries a GET whose body was cut mid-stream, and fails once retries run out', async () => {
    const err = await firstValueFrom(clients.http.get('/cut')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AxiosError);
    expect((err as AxiosError).code).toBe('ECONNRESET');
    expect(count('/cut')).toBe(3);
  });

  it('retries a GET whose reused keep-alive socket was closed by the upstream, never a POST', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await firstValueFrom(clients.http.get<string>('/reuse-closed'));
      expect(res.data).toBe('ok');
    }
    // Every GET after the first met a closed reused socket once, then went through a new one.
    expect(count('/reuse-closed')).toBe(9);

    const post = await firstValueFrom(clients.http.post('/reuse-closed', 'x')).catch(
      (e: unknown) => e,
    );
    expect((post as AxiosError).code).toBe('ECONNRESET');
    expect(count('/reuse-closed')).toBe(10);
  });

  it('counts retries by reason in http_client_retries_total', async () => {
    const text = await harness.registry.metrics();
    const line = (reason: string) =>
      new RegExp(
        `http_client_retries_total\\{[^}]*pool_name="default"[^}]*reason="${reason}"[^}]*\\} (\\d+)`,
      ).exec(text)?.[1];
    expect(Number(line('status_503'))).toBeGreaterThanOrEqual(3);
    expect(Number(line('connection_reset'))).toBeGreaterThanOrEqual(2 + 4);
    expect(text).toMatch(/pool_errors_total\{[^}]*pool_system="http"[^}]*error_type="ECONNRESET"/);
  });
});
