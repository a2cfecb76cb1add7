import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';

import type { HttpTestUpstream } from '@nest-pools/testing';
import { startHttpUpstream, waitFor } from '@nest-pools/testing';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  headersAtMs: number;
  doneAtMs: number;
}

interface CallOptions {
  agent?: Agent;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}

/** One request through node:http; timings are measured from the call. */
async function call(url: string, options: CallOptions = {}): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent: options.agent ?? false, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const headersAtMs = performance.now() - started;
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts),
            headersAtMs,
            doneAtMs: performance.now() - started,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Resolves with the error code a request fails with (or 'ok' when it succeeds). */
async function failureOf(url: string): Promise<string> {
  try {
    await call(url);
    return 'ok';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

describe('HttpTestUpstream', () => {
  let upstream: HttpTestUpstream;

  beforeAll(async () => {
    upstream = await startHttpUpstream({
      keepAliveTimeoutMs: 2000,
      routes: {
        '/flaky': { status: [503, 503, 200], headers: { 'retry-after': '1' } },
        '/slow-headers': { latencyMs: 150 },
        '/slow-body': { bodyDelayMs: 100, chunks: { count: 3, intervalMs: 80 }, body: 'abcdefghi' },
        '/reset-before': { reset: 'before-response' },
        '/reset-mid': { reset: 'mid-response', bodySize: 200_000 },
        '/big/*': { bodySize: 3 * 1024 * 1024 },
        '/gzip': { gzip: true, body: 'compressed payload '.repeat(100) },
        '/teapot': (_req, res) => {
          res.statusCode = 418;
          res.end('short and stout');
        },
      },
      handler: (req, res) => {
        if (req.headers['x-intercept'] !== 'yes') return false;
        res.statusCode = 202;
        res.end('intercepted');
        return true;
      },
    });
  });

  afterAll(async () => {
    await upstream.close();
  });

  beforeEach(() => upstream.resetCounters());

  it('answers with a JSON description by default and marks the serving connection', async () => {
    const reply = await call(`${upstream.url}/hello?x=1`);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body.toString())).toEqual({
      method: 'GET',
      path: '/hello',
      request: 1,
      connection: expect.any(Number),
    });
    expect(reply.headers['x-upstream-request-no']).toBe('1');
    expect(upstream.requestsTo('/hello')).toBe(1);
    expect(upstream.lastRequest?.url).toBe('/hello?x=1');
  });

  it('reuses one TCP connection with a keep-alive agent', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const replies = [];
      for (let i = 0; i < 4; i++) replies.push(await call(`${upstream.url}/ka`, { agent }));
      const ids = new Set(replies.map((r) => r.headers['x-upstream-connection-id']));
      expect(ids.size).toBe(1);
      expect(upstream.totalConnections).toBe(1);
      expect(upstream.openConnections).toBe(1);
      expect(upstream.stats().requests).toEqual({ total: 4, byPath: { '/ka': 4 } });
    } finally {
      agent.destroy();
    }
    await waitFor(() => upstream.openConnections === 0, { description: 'agent sockets closed' });
  });

  it('sees a new TCP connection per request without keep-alive', async () => {
    const agent = new Agent({ keepAlive: false });
    for (let i = 0; i < 3; i++) await call(`${upstream.url}/no-ka`, { agent });
    agent.destroy();
    expect(upstream.totalConnections).toBe(3);
    expect(new Set(upstream.requests.map((r) => r.connectionId)).size).toBe(3);
    await waitFor(() => upstream.openConnections === 0, { description: 'sockets closed' });
  });

  it('plays a status sequence per route, repeating the last code, and rewinds on reset', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(`${upstream.url}/flaky`)).status);
    expect(statuses).toEqual([503, 503, 200, 200]);
    expect((await call(`${upstream.url}/flaky`)).headers['retry-after']).toBe('1');
    expect((await call(`${upstream.url}/other`)).status).toBe(200);
    upstream.resetCounters();
    expect((await call(`${upstream.url}/flaky`)).status).toBe(503);
  });

  it('delays the headers by latencyMs', async () => {
    const reply = await call(`${upstream.url}/slow-headers`);
    expect(reply.headersAtMs).toBeGreaterThanOrEqual(140);
  });

  it('sends headers at once and the body slowly in chunks', async () => {
    const reply = await call(`${upstream.url}/slow-body`);
    expect(reply.body.toString()).toBe('abcdefghi');
    // 100 ms body delay plus two 80 ms pauses between the three chunks.
    expect(reply.doneAtMs - reply.headersAtMs).toBeGreaterThanOrEqual(240);
  });

  it('resets the connection before any response byte', async () => {
    expect(await failureOf(`${upstream.url}/reset-before`)).toBe('ECONNRESET');
    expect(upstream.requestsTo('/reset-before')).toBe(1);
  });

  it('resets the connection in the middle of the body', async () => {
    const received: number[] = [];
    const outcome = await new Promise<string>((resolve) => {
      const req = request(`${upstream.url}/reset-mid`, { agent: false }, (res) => {
        received.push(res.statusCode ?? 0, 0);
        res.on('data', (chunk: Buffer) => (received[1] = (received[1] ?? 0) + chunk.length));
        res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        res.on('end', () => resolve('complete'));
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
    expect(outcome).toBe('ECONNRESET');
    expect(received[0]).toBe(200);
    expect(received[1]).toBeGreaterThan(0);
    expect(received[1]).toBeLessThan(200_000);
  });

  it('streams a large generated body', async () => {
    const reply = await call(`${upstream.url}/big/file`);
    expect(reply.headers['content-length']).toBe(String(3 * 1024 * 1024));
    expect(reply.body.length).toBe(3 * 1024 * 1024);
    expect(reply.body.subarray(0, 10).toString()).toBe('abcdefghij');
  });

  it('gzips the body on request', async () => {
    const reply = await call(`${upstream.url}/gzip`);
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.body.length).toBeLessThan(200);
    expect(gunzipSync(reply.body).toString()).toBe('compressed payload '.repeat(100));
  });

  it('lets a route handler and the global handler answer, and records request bodies', async () => {
    const teapot = await call(`${upstream.url}/teapot`, { method: 'POST', body: '{"a":1}' });
    expect(teapot.status).toBe(418);
    expect(teapot.body.toString()).toBe('short and stout');
    expect(upstream.lastRequest).toMatchObject({ method: 'POST', path: '/teapot', bodyBytes: 7 });
    expect(upstream.lastRequest?.body.toString()).toBe('{"a":1}');

    const intercepted = await call(`${upstream.url}/flaky`, { headers: { 'x-intercept': 'yes' } });
    expect(intercepted.status).toBe(202);
    expect(upstream.lastRequest?.headers['x-intercept']).toBe('yes');
  });

  it('switches behaviour at run time', async () => {
    upstream.setRoute('/switch', { status: 500 });
    expect((await call(`${upstream.url}/switch`)).status).toBe(500);
    upstream.setRoute('/switch', undefined);
    expect((await call(`${upstream.url}/switch`)).status).toBe(200);
  });
});

describe('HttpTestUpstream keep-alive', () => {
  /**
   * One keep-alive request on a raw socket, so only the server decides when the idle connection
   * ends; resolves with the response head and how long the connection stayed idle.
   */
  async function idleRound(upstream: HttpTestUpstream): Promise<{ head: string; idleMs: number }> {
    const socket = connect({ host: upstream.host, port: upstream.port });
    let response = '';
    let answeredAt = 0;
    socket.on('data', (chunk: Buffer) => {
      response += chunk.toString();
      answeredAt ||= performance.now();
    });
    const closedAt = new Promise<number>((resolve) =>
      socket.once('close', () => resolve(performance.now())),
    );
    socket.write('GET / HTTP/1.1\r\nHost: upstream\r\nConnection: keep-alive\r\n\r\n');
    await waitFor(() => response.includes('\r\n\r\n'), { description: 'response headers' });
    expect(upstream.openConnections).toBe(1);
    const idleMs = (await closedAt) - answeredAt;
    await waitFor(() => upstream.openConnections === 0, { description: 'server-side close' });
    return { head: response.slice(0, response.indexOf('\r\n\r\n')), idleMs };
  }

  it('closes idle connections after keepAliveTimeoutMs and advertises it', async () => {
    const upstream = await startHttpUpstream({ keepAliveTimeoutMs: 1000 });
    try {
      const first = await idleRound(upstream);
      expect(first.head).toMatch(/^keep-alive: timeout=1$/im);
      expect(first.idleMs).toBeGreaterThanOrEqual(900);
      expect(first.idleMs).toBeLessThan(4000); // well below Node's 5 s default

      upstream.setKeepAliveTimeout(300);
      const second = await idleRound(upstream);
      expect(second.idleMs).toBeGreaterThanOrEqual(250);
      expect(second.idleMs).toBeLessThan(900); // the new 300 ms, not the old 1 s
    } finally {
      await upstream.close();
    }
  });

  it('can advertise a longer Keep-Alive than it keeps, and close per response', async () => {
    const upstream = await startHttpUpstream({
      keepAliveTimeoutMs: 300,
      keepAliveHeaderSeconds: 30,
      routes: { '/bye': { closeConnection: true } },
    });
    const agent = new Agent({ keepAlive: true });
    try {
      const reply = await call(`${upstream.url}/`, { agent });
      expect(reply.headers['keep-alive']).toBe('timeout=30');
      await waitFor(() => upstream.openConnections === 0, { description: 'server-side close' });

      const bye = await call(`${upstream.url}/bye`, { agent });
      expect(bye.headers['connection']).toBe('close');
      await waitFor(() => upstream.openConnections === 0, { description: 'closed after response' });
      expect(upstream.totalConnections).toBe(2);
    } finally {
      agent.destroy();
      await upstream.close();
    }
  });

  it('close() destroys open keep-alive connections and pending delayed responses', async () => {
    const upstream = await startHttpUpstream({ latencyMs: 10_000 });
    const agent = new Agent({ keepAlive: true });
    const pending = failureOf(`${upstream.url}/never`).catch(() => 'failed');
    await waitFor(() => upstream.totalRequests === 1, { description: 'request received' });
    const started = performance.now();
    await upstream.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await pending).toBe('ECONNRESET');
    expect(upstream.openConnections).toBe(0);
    agent.destroy();
  });
});
