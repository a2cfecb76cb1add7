// The native request API of a pooled client (HttpPoolRequester, InjectHttpPoolRequester) against a
// real local upstream, on both transports: the same sockets as HttpService, limits, retry rules,
// timeouts, abort, circuit breaker, metrics and shutdown. What happened is read from the
// upstream's own per-connection records and the module's registry, never from timing.
import { PoolUnavailableError } from '@nest-pools/core';
import {
  getHttpPoolClientToken,
  getHttpPoolRequesterToken,
  type HttpPoolClient,
  HttpPoolModule,
  type HttpPoolRequester,
  InjectHttpPool,
  InjectHttpPoolRequester,
} from '@nest-pools/http';
import {
  type ForwardProxy,
  getFreePort,
  type HttpTestUpstream,
  startForwardProxy,
  startHttpUpstream,
  waitFor,
} from '@nest-pools/testing';
import { HttpService } from '@nestjs/axios';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AxiosError } from 'axios';
import { firstValueFrom } from 'rxjs';

import { type HttpHarness, startHttpHarness } from '../support/http.js';

@Injectable()
class Requesters {
  constructor(
    @InjectHttpPoolRequester() readonly api: HttpPoolRequester,
    @InjectHttpPoolRequester('narrow') readonly narrow: HttpPoolRequester,
    readonly http: HttpService,
    @InjectHttpPool('narrow') readonly narrowHttp: HttpService,
  ) {}
}

/** The error a request failed with (fails the test when it succeeded). */
async function failure(request: Promise<unknown>): Promise<unknown> {
  return request.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (error: unknown) => error,
  );
}

describe.each(['undici', 'http'] as const)('HttpPoolRequester (%s transport)', (transport) => {
  let harness: HttpHarness;
  let clients: Requesters;
  /** A second origin, for cross-origin redirects. */
  let other: HttpTestUpstream;
  /** Responses of `/held` waiting for the rest of their body. */
  const held: Array<{ end(chunk: string): void }> = [];
  /** Ends the oldest `/held` response with `rest`, once it has arrived at the upstream. */
  const release = async (rest: string) => {
    await waitFor(() => held.length > 0);
    held.shift()!.end(rest);
  };

  beforeAll(async () => {
    other = await startHttpUpstream();
    harness = await startHttpHarness({
      upstream: {
        routes: {
          '/slow': { latencyMs: 150 },
          '/hang': { latencyMs: 30_000 },
          '/busy': { status: [503, 200] },
          '/post-busy': { status: [503, 200] },
          '/missing': { status: 404, body: '{"error":"nope"}' },
          '/big': { bodySize: 256 * 1024 },
          '/moved': { status: 302, headers: { location: '/landed' } },
          '/cut': { bodySize: 256 * 1024, reset: 'mid-response' },
          '/see-other': { status: 303, headers: { location: '/landed' } },
          '/hop/*': (req, res) => {
            const n = Number(req.url?.split('/')[2] ?? 0);
            res.writeHead(302, { location: `/hop/${n + 1}` });
            res.end();
          },
          '/held': (_req, res) => {
            // Headers and a first chunk now, the rest when the test says (see `release`).
            res.writeHead(200, { 'content-type': 'application/json' });
            res.write('{"parts": [1,');
            held.push(res);
          },
          '/elsewhere': (_req, res) => {
            res.writeHead(307, { location: `${other.url}/landed` });
            res.end();
          },
        },
      },
      pools: ({ url: baseURL }) => [
        { baseURL, transport, retries: 2, retryBackoffMs: 10, headers: { 'x-client': 'api' } },
        { name: 'narrow', baseURL, transport, poolLimit: 1, limitPerHost: 1, retries: 0 },
      ],
      providers: [Requesters],
    });
    clients = harness.moduleRef.get(Requesters);
  });
  afterAll(async () => {
    await harness?.close();
    await other?.close();
  });
  beforeEach(() => {
    harness.upstream.resetCounters();
    other.resetCounters();
  });

  const count = (path: string) => harness.upstream.requests.filter((r) => r.path === path).length;

  it('sends method, path, query, headers and a JSON body; reads json(), text() and streams', async () => {
    const res = await clients.api.post(
      '/echo',
      { snippet: 'print(1)' },
      { query: { tag: ['a', 'b'], n: 2 }, headers: { 'x-trace': 't-1' } },
    );
    expect(res.statusCode).toBe(200);
    const echoed = await res.json<{ method: string; path: string }>();
    expect(echoed).toMatchObject({ method: 'POST', path: '/echo' });
    const seen = harness.upstream.lastRequest!;
    expect(seen.url).toBe('/echo?tag=a&tag=b&n=2');
    expect(seen.headers).toMatchObject({
      'x-trace': 't-1',
      'x-client': 'api',
      'content-type': 'application/json',
    });
    expect(JSON.parse(seen.body.toString('utf8'))).toEqual({ snippet: 'print(1)' });

    const missing = await clients.api.get('/missing');
    expect(missing.statusCode).toBe(404);
    expect(await missing.text()).toBe('{"error":"nope"}');

    const big = await clients.api.get('/big');
    let bytes = 0;
    for await (const chunk of big.body as AsyncIterable<Buffer>) bytes += chunk.length;
    expect(bytes).toBe(256 * 1024);
  });

  it('decodes a body that ends after the reader asked for it; a body that is no JSON rejects', async () => {
    // The upstream holds each body's end until the reader is waiting for it.
    const whole = await clients.api.get('/held');
    const parsed = whole.json<{ parts: number[] }>();
    await release(' 2]}');
    expect(await parsed).toEqual({ parts: [1, 2] });

    const broken = await clients.api.get('/held');
    const failed = failure(broken.json());
    await release(' oops');
    expect(await failed).toBeInstanceOf(SyntaxError);

    const bytes = await clients.api.get('/held');
    const buffer = bytes.arrayBuffer();
    await release('3]}');
    expect(Buffer.from(await buffer).toString('utf8')).toBe('{"parts": [1,3]}');
    // Each body ended in full: its connection took the next request.
    expect(new Set(harness.upstream.requests.map((r) => r.connectionId)).size).toBe(1);
  });

  it('reuses one connection for sequential requests, shared with the client HttpService', async () => {
    // `narrow` allows one socket per origin: had the HttpService its own pool, it would open a
    // second connection; sharing means every request below rides the same one.
    const connectionsBefore = harness.upstream.totalConnections;
    for (let i = 0; i < 20; i++) {
      const res = await clients.narrow.get('/seq', { query: { i } });
      await res.dump();
    }
    expect((await firstValueFrom(clients.narrowHttp.get('/seq'))).status).toBe(200);
    expect(count('/seq')).toBe(21);
    expect(new Set(harness.upstream.requests.map((r) => r.connectionId)).size).toBe(1);
    expect(harness.upstream.totalConnections - connectionsBefore).toBeLessThanOrEqual(1);
  });

  it('holds a poolLimit slot while a body waits to be read: the next request waits for it', async () => {
    // 256 KiB nobody reads: the transfer pauses (its socket and slot stay taken).
    const first = await clients.narrow.get('/big');
    let secondDone = false;
    const second = clients.narrow.get('/seq').then((res) => {
      secondDone = true;
      return res;
    });
    const client = harness.moduleRef.get<HttpPoolClient>(getHttpPoolClientToken('narrow'));
    await waitFor(() => client.stats().pending === 1, { description: 'the second request queued' });
    expect(secondDone).toBe(false);
    expect(count('/seq')).toBe(0);
    await first.dump();
    const res = await second;
    await res.dump();
    expect(count('/seq')).toBe(1);
  });

  if (transport === 'undici') {
    it('gives the slot back once a small body has arrived, read or not', async () => {
      const client = harness.moduleRef.get<HttpPoolClient>(getHttpPoolClientToken('narrow'));
      const res = await clients.narrow.get('/seq');
      await waitFor(() => client.stats().acquired === 0, {
        description: 'the slot of the unread response came back',
      });
      // The next request is sent at once, although the first body is still unread.
      const next = await clients.narrow.get('/seq');
      expect(await next.json()).toMatchObject({ path: '/seq' });
      expect(await res.json()).toMatchObject({ path: '/seq' });
    });
  }

  it('gives the slot and socket back when the caller destroys the body stream', async () => {
    const big = await clients.narrow.get('/big');
    const stream = big.body;
    await new Promise((resolve) => stream.once('readable', resolve));
    stream.destroy();
    const res = await clients.narrow.get('/seq');
    expect(res.statusCode).toBe(200);
    await res.dump();
  });

  it('fails a body cut mid-response with an AxiosError, and frees the slot', async () => {
    const res = await clients.narrow.get('/cut');
    expect(res.statusCode).toBe(200);
    const error = await failure(res.arrayBuffer());
    expect(error).toHaveProperty('message');
    if (transport === 'undici') expect(error).toBeInstanceOf(AxiosError);
    const next = await clients.narrow.get('/seq');
    expect(next.statusCode).toBe(200);
    await next.dump();
  });

  it('aborts a body being read when the caller signal fires, and frees the slot', async () => {
    const controller = new AbortController();
    const res = await clients.narrow.get('/big', { signal: controller.signal });
    const reading = res.text();
    controller.abort();
    const error = await failure(reading);
    if (transport === 'undici') expect((error as AxiosError).code).toBe('ERR_CANCELED');
    else expect(error).toBeInstanceOf(Error);
    const next = await clients.narrow.get('/seq');
    expect(next.statusCode).toBe(200);
    await next.dump();
  });

  it('reads a body once: a second reader fails with a TypeError, nothing hangs', async () => {
    const res = await clients.api.get('/once');
    expect(await res.json()).toMatchObject({ path: '/once' });
    if (transport === 'undici') {
      await expect(res.text()).rejects.toThrow(/already read with json\(\)/);
      expect(() => res.body).toThrow(TypeError);
    }
  });

  it('follows redirects up to the client maxRedirects, and fails past it', async () => {
    const moved = await clients.api.get('/moved');
    expect(moved.statusCode).toBe(200);
    expect(await moved.json()).toMatchObject({ method: 'GET', path: '/landed' });
    expect(count('/moved')).toBe(1);

    const chain = await failure(clients.api.get('/hop/0'));
    expect((chain as AxiosError).code).toBe('ERR_FR_TOO_MANY_REDIRECTS');
    // The first request and the 5 redirects of maxRedirects' default.
    expect(harness.upstream.requests.filter((r) => r.path.startsWith('/hop/')).length).toBe(6);
  });

  it('turns a POST into a GET without its body on 303, and keeps credentials on its origin', async () => {
    const res = await clients.api.post(
      '/see-other',
      { a: 1 },
      { headers: { authorization: 'Bearer secret-token', cookie: 'sid=1' } },
    );
    expect(res.statusCode).toBe(200);
    await res.dump();
    const landed = harness.upstream.lastRequest!;
    expect(landed).toMatchObject({ method: 'GET', path: '/landed', bodyBytes: 0 });
    expect(landed.headers['content-type']).toBeUndefined();
    expect(landed.headers['authorization']).toBe('Bearer secret-token');

    const away = await clients.api.get('/elsewhere', {
      headers: { authorization: 'Bearer secret-token', cookie: 'sid=1' },
    });
    expect(away.statusCode).toBe(200);
    await away.dump();
    const there = other.lastRequest!;
    expect(there.path).toBe('/landed');
    expect(there.headers['authorization']).toBeUndefined();
    expect(there.headers['cookie']).toBeUndefined();
    expect(there.headers['x-client']).toBe('api');
  });

  it('retries a GET on 503 per the client rules, never a POST (which gets the 503)', async () => {
    const res = await clients.api.get('/busy');
    expect(res.statusCode).toBe(200);
    await res.dump();
    expect(count('/busy')).toBe(2);

    const post = await clients.api.post('/post-busy', 'x');
    expect(post.statusCode).toBe(503);
    await post.dump();
    expect(count('/post-busy')).toBe(1);
    expect(await harness.retries('status_503')).toBeGreaterThanOrEqual(1);
  });

  it('fails on its total timeout and on an aborted signal, and frees the socket', async () => {
    const timedOut = await failure(clients.narrow.get('/hang', { timeout: 100 }));
    expect(timedOut).toBeInstanceOf(AxiosError);
    expect((timedOut as AxiosError).code).toMatch(/^(ECONNABORTED|ETIMEDOUT)$/);

    const controller = new AbortController();
    const aborted = clients.narrow.get('/hang', { signal: controller.signal });
    await waitFor(() => count('/hang') === 2, {
      description: 'the second /hang reached the upstream',
    });
    controller.abort();
    const error = await failure(aborted);
    expect((error as AxiosError).code).toBe('ERR_CANCELED');

    // The one slot of `narrow` is free again.
    const res = await clients.narrow.get('/seq');
    expect(res.statusCode).toBe(200);
    await res.dump();
  });

  it('reports each attempt in http_client_request_duration_seconds', async () => {
    const res = await clients.narrow.get('/metered');
    await res.dump();
    const missing = await clients.narrow.get('/missing');
    await missing.dump();
    const metric = await harness.registry
      .getSingleMetric('http_client_request_duration_seconds')
      ?.get();
    const counts = (metric?.values ?? []).filter(
      (v) =>
        (v as { metricName?: string }).metricName ===
          'http_client_request_duration_seconds_count' && v.labels['pool_name'] === 'narrow',
    );
    expect(counts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          labels: expect.objectContaining({
            http_request_method: 'GET',
            http_response_status_code: '200',
            server_port: String(harness.upstream.port),
            error_type: '',
          }) as Record<string, string>,
        }),
        expect.objectContaining({
          labels: expect.objectContaining({
            http_response_status_code: '404',
            error_type: '404',
          }) as Record<string, string>,
          value: 1,
        }),
      ]),
    );
  });
});

describe('HttpPoolRequester: circuit breaker, proxy and shutdown', () => {
  let proxy: ForwardProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  const boot = async (options: Parameters<typeof HttpPoolModule.forRoot>[0]) => {
    const moduleRef = await Test.createTestingModule({
      imports: [HttpPoolModule.forRoot({ ignoreEnv: true, ...options })],
    }).compile();
    await moduleRef.init();
    return { moduleRef, api: moduleRef.get<HttpPoolRequester>(getHttpPoolRequesterToken()) };
  };

  it('opens the origin breaker after connection failures and then fails at once', async () => {
    const { moduleRef, api } = await boot({
      retries: 0,
      breakerFailures: 2,
      breakerHalfOpenMs: 60_000,
    });
    try {
      const url = `http://127.0.0.1:${await getFreePort()}/x`;
      for (let i = 0; i < 2; i++) {
        expect((await failure(api.get(url))) as AxiosError).toMatchObject({ code: 'ECONNREFUSED' });
      }
      expect(await failure(api.get(url))).toBeInstanceOf(PoolUnavailableError);
    } finally {
      await moduleRef.close();
    }
  });

  it('goes through HTTP_PROXY / the proxy option to a host only the proxy resolves', async () => {
    const upstream = await startHttpUpstream();
    proxy = await startForwardProxy({ hosts: { 'only-via-proxy.test': '127.0.0.1' } });
    const { moduleRef, api } = await boot({ proxy: proxy.url, retries: 0 });
    try {
      const target = `only-via-proxy.test:${upstream.port}`;
      const res = await api.get(`http://${target}/via`);
      expect(res.statusCode).toBe(200);
      await res.dump();
      expect(proxy.counts(target)).toEqual({ requests: 1, connects: 0 });
      expect(upstream.requestsTo('/via')).toBe(1);
    } finally {
      await moduleRef.close();
      await upstream.close();
    }
  });

  it('dumps a short body on the same connection, cuts one over 128 KiB', async () => {
    const upstream = await startHttpUpstream({ routes: { '/big': { bodySize: 256 * 1024 } } });
    const { moduleRef, api } = await boot({ baseURL: upstream.url, limitPerHost: 1, retries: 0 });
    try {
      await (await api.get('/short')).dump();
      await (await api.get('/big')).dump();
      await (await api.get('/after')).dump();
      const [first, cut, next] = ['/short', '/big', '/after'].map(
        (path) => upstream.requests.find((r) => r.path === path)!.connectionId,
      );
      expect(cut).toBe(first);
      expect(next).not.toBe(cut);
    } finally {
      await moduleRef.close();
      await upstream.close();
    }
  });

  it('lets an in-flight request finish at shutdown, then refuses new ones and closes its sockets', async () => {
    const upstream = await startHttpUpstream({ routes: { '/slow': { latencyMs: 150 } } });
    const { moduleRef, api } = await boot({ baseURL: upstream.url });
    try {
      const client = moduleRef.get<HttpPoolClient>(getHttpPoolClientToken());
      const inFlight = api.get('/slow');
      await waitFor(() => upstream.requestsTo('/slow') === 1, {
        description: 'the request reached the upstream',
      });
      const closing = moduleRef.close();
      const res = await inFlight;
      expect(res.statusCode).toBe(200);
      await res.text();
      await closing;
      expect(((await failure(api.get('/slow'))) as AxiosError).code).toBe('ERR_POOL_CLOSED');
      expect(client.stats()).toMatchObject({ closed: true, connections: 0 });
    } finally {
      await moduleRef.close();
      await upstream.close();
    }
  });
});
