import type { Readable } from 'node:stream';

import { HttpPoolModule } from '@nest-pools/http';
import {
  type HttpTestUpstream,
  startFaultProxy,
  startHttpUpstream,
  type TcpFaultProxy,
} from '@nest-pools/testing';
import { HttpService } from '@nestjs/axios';
import { Test, type TestingModule } from '@nestjs/testing';
import { AxiosError, isCancel } from 'axios';
import { firstValueFrom } from 'rxjs';

/** Runs `fn`, expecting an AxiosError; returns it with the time it took. */
async function failure(fn: () => Promise<unknown>): Promise<{ error: AxiosError; ms: number }> {
  const started = performance.now();
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AxiosError);
    return { error: error as AxiosError, ms: performance.now() - started };
  }
  throw new Error('expected the request to fail');
}

describe('HttpPoolModule: timeouts, abort, streams', () => {
  let upstream: HttpTestUpstream;
  let blackhole: TcpFaultProxy;
  let moduleRef: TestingModule;
  let http: HttpService;

  beforeAll(async () => {
    upstream = await startHttpUpstream({
      routes: {
        '/slow-headers': { latencyMs: 2000 },
        '/slow-body': { bodyDelayMs: 2000, body: 'late' },
        '/stream': { bodySize: 256 * 1024, chunks: { count: 8, intervalMs: 5 } },
        '/big': { bodySize: 64 * 1024 },
        '/gzip': { gzip: true, body: JSON.stringify({ zipped: true }) },
        '/missing': { status: 404 },
        '/moved': (_req, res) => {
          res.writeHead(302, { location: '/final' });
          res.end();
        },
        '/see-other': (_req, res) => {
          res.writeHead(303, { location: '/final' });
          res.end();
        },
        '/loop': (_req, res) => {
          res.writeHead(302, { location: '/loop' });
          res.end();
        },
        '/hop/*': (req, res) => {
          const n = Number(req.url?.split('/')[2] ?? 0);
          res.writeHead(302, { location: `/hop/${n + 1}` });
          res.end();
        },
      },
    });
    blackhole = await startFaultProxy({ target: { host: upstream.host, port: upstream.port } });
    await blackhole.blackhole();
    moduleRef = await Test.createTestingModule({
      imports: [
        HttpPoolModule.forRoot({
          baseURL: upstream.url,
          connectTimeoutMs: 300,
          readTimeoutMs: 300,
          timeoutTotalMs: 5000,
          retries: 0,
        }),
      ],
    }).compile();
    await moduleRef.init();
    http = moduleRef.get(HttpService);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await blackhole?.close();
    await upstream?.close();
  });

  it('fails a connect to a blackhole in time with UND_ERR_CONNECT_TIMEOUT', async () => {
    // The blackhole accepts TCP but never answers, so the TLS handshake (part of connecting)
    // never completes.
    const { error, ms } = await failure(() =>
      firstValueFrom(http.get(`https://127.0.0.1:${blackhole.port}/x`)),
    );
    expect(error.code).toBe('UND_ERR_CONNECT_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(2000);
  });

  it('fails slow headers with UND_ERR_HEADERS_TIMEOUT', async () => {
    const { error, ms } = await failure(() => firstValueFrom(http.get('/slow-headers')));
    expect(error.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(1500);
  });

  it('fails a slow body with UND_ERR_BODY_TIMEOUT', async () => {
    const { error, ms } = await failure(() => firstValueFrom(http.get('/slow-body')));
    expect(error.code).toBe('UND_ERR_BODY_TIMEOUT');
    expect(ms).toBeLessThan(1500);
  });

  it('fails on the total timeout with axios codes (ECONNABORTED, or ETIMEDOUT when clarified)', async () => {
    const total = await failure(() => firstValueFrom(http.get('/slow-headers', { timeout: 100 })));
    expect(total.error.code).toBe('ECONNABORTED');
    expect(total.error.message).toBe('timeout of 100ms exceeded');
    expect(total.ms).toBeLessThan(250);
    const clarified = await failure(() =>
      firstValueFrom(
        http.get('/slow-headers', { timeout: 100, transitional: { clarifyTimeoutError: true } }),
      ),
    );
    expect(clarified.error.code).toBe('ETIMEDOUT');
  });

  it('aborts through AbortSignal and through unsubscribe', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const { error, ms } = await failure(() =>
      firstValueFrom(http.get('/slow-headers', { signal: controller.signal })),
    );
    expect(isCancel(error)).toBe(true);
    expect(error.code).toBe('ERR_CANCELED');
    expect(ms).toBeLessThan(250);

    upstream.resetCounters();
    const sub = http.get('/slow-headers').subscribe({ error: () => undefined });
    await new Promise((r) => setTimeout(r, 50));
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 50));
    expect(upstream.totalRequests).toBe(1);
    const ok = await firstValueFrom(http.get<{ path: string }>('/after-abort'));
    expect(ok.data.path).toBe('/after-abort');
  });

  it('streams a response body with responseType stream', async () => {
    const res = await firstValueFrom(http.get<Readable>('/stream', { responseType: 'stream' }));
    expect(res.status).toBe(200);
    let bytes = 0;
    for await (const chunk of res.data) bytes += (chunk as Buffer).length;
    expect(bytes).toBe(256 * 1024);
  });

  it('keeps axios body semantics: arraybuffer, text, maxContentLength, validateStatus, gzip', async () => {
    const buf = await firstValueFrom(http.get<Buffer>('/big', { responseType: 'arraybuffer' }));
    expect(Buffer.isBuffer(buf.data)).toBe(true);
    expect(buf.data.length).toBe(64 * 1024);

    const text = await firstValueFrom(http.get<string>('/t', { responseType: 'text' }));
    expect(typeof text.data).toBe('string');

    const tooBig = await failure(() =>
      firstValueFrom(http.get('/big', { maxContentLength: 1000 })),
    );
    expect(tooBig.error.code).toBe('ERR_BAD_RESPONSE');
    expect(tooBig.error.message).toBe('maxContentLength size of 1000 exceeded');

    const zipped = await firstValueFrom(http.get<{ zipped: boolean }>('/gzip'));
    expect(zipped.data).toEqual({ zipped: true });
  });

  it('runs interceptors and rejects non-2xx with the response attached', async () => {
    const id = http.axiosRef.interceptors.request.use((config) => {
      config.headers.set('x-intercepted', 'yes');
      return config;
    });
    try {
      const res = await firstValueFrom(http.get('/echo'));
      expect(res.status).toBe(200);
      expect(upstream.lastRequest?.headers['x-intercepted']).toBe('yes');
      expect(upstream.lastRequest?.headers['user-agent']).toBe('nest-pools');
      const missing = await failure(() => firstValueFrom(http.get('/missing')));
      expect(missing.error.code).toBe('ERR_BAD_REQUEST');
      expect(missing.error.response?.status).toBe(404);
      const accepted = await firstValueFrom(http.get('/missing', { validateStatus: () => true }));
      expect(accepted.status).toBe(404);
    } finally {
      http.axiosRef.interceptors.request.eject(id);
    }
  });

  it('follows redirects up to maxRedirects, returns the 3xx with 0, fails past the limit', async () => {
    const followed = await firstValueFrom(http.get<{ path: string }>('/moved'));
    expect(followed.data.path).toBe('/final');
    const kept = await firstValueFrom(
      http.get('/moved', { maxRedirects: 0, validateStatus: (s) => s < 400 }),
    );
    expect(kept.status).toBe(302);
    expect(kept.headers.location).toBe('/final');
    const chain = await failure(() => firstValueFrom(http.get('/hop/0')));
    expect(chain.error.code).toBe('ERR_FR_TOO_MANY_REDIRECTS');
    expect(upstream.requests.filter((r) => r.path.startsWith('/hop/')).length).toBe(6);
    const loop = await failure(() => firstValueFrom(http.get('/loop')));
    expect(loop.error.code).toBe('ERR_FR_TOO_MANY_REDIRECTS');
  });

  it('turns a POST into a GET without its body on 303, and reports the final URL', async () => {
    const res = await firstValueFrom(
      http.post<{ method: string; path: string }>('/see-other', { snippet: 'x' }),
    );
    expect(res.data).toMatchObject({ method: 'GET', path: '/final' });
    const landed = upstream.lastRequest!;
    expect(landed).toMatchObject({ method: 'GET', path: '/final', bodyBytes: 0 });
    expect(landed.headers['content-type']).toBeUndefined();
    expect((res.request as { responseURL: string }).responseURL).toBe(`${upstream.url}/final`);
  });
});
