import { Agent, request } from 'node:http';
import { connect } from 'node:net';

import type { HttpTestUpstream, RedisTestServer, TcpFaultProxy } from '@nest-pools/testing';
import { startFaultProxy, startHttpUpstream, startRedis, waitFor } from '@nest-pools/testing';
import { Redis } from 'ioredis';

interface Outcome {
  status?: number;
  error?: string;
  ms: number;
}

/** GET through node:http; resolves with the status or the error code, never rejects. */
async function get(url: string, agent: Agent | false = false, timeoutMs = 3000): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (o: Omit<Outcome, 'ms'>): void =>
      resolve({ ...o, ms: performance.now() - started });
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => done({ status: res.statusCode }));
      res.on('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
    );
    req.on('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
    req.end();
  });
}

/** Raw TCP connect; resolves with 'connected' or the error code. */
async function tcpConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('TcpFaultProxy in front of an HTTP upstream', () => {
  let upstream: HttpTestUpstream;
  let proxy: TcpFaultProxy;
  let base: string;

  beforeAll(async () => {
    upstream = await startHttpUpstream({ routes: { '/big': { bodySize: 4 * 1024 * 1024 } } });
    proxy = await startFaultProxy({ target: { host: upstream.host, port: upstream.port } });
    base = `http://${proxy.host}:${proxy.port}`;
  });

  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  afterEach(async () => {
    await proxy.heal();
    await waitFor(() => proxy.openConnections === 0, { description: 'connections drained' });
    upstream.resetCounters();
    proxy.resetCounters();
  });

  it('passes traffic through and counts connections', async () => {
    expect(proxy.mode).toBe('pass');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await get(`${base}/a`, agent)).status).toBe(200);
    expect((await get(`${base}/b`, agent)).status).toBe(200);
    expect(proxy.stats()).toEqual({
      mode: 'pass',
      connections: { total: 1, open: 1 },
      upstreamConnects: 1,
    });
    expect(upstream.totalConnections).toBe(1);
    expect(upstream.totalRequests).toBe(2);
    agent.destroy();
    await waitFor(() => proxy.openConnections === 0 && upstream.openConnections === 0, {
      description: 'both sides closed',
    });
  });

  it('carries large bodies intact, also under latency', async () => {
    const fetchBig = (): Promise<number> =>
      new Promise((resolve, reject) => {
        request(`${base}/big`, { agent: false }, (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => (bytes += chunk.length));
          res.on('end', () => resolve(bytes));
          res.on('error', reject);
        })
          .on('error', reject)
          .end();
      });
    expect(await fetchBig()).toBe(4 * 1024 * 1024);
    await proxy.latency(5);
    expect(await fetchBig()).toBe(4 * 1024 * 1024);
  });

  it('adds measurable latency per direction, and heal removes it', async () => {
    await proxy.latency(120);
    const both = await get(`${base}/slow`);
    expect(both.status).toBe(200);
    expect(both.ms).toBeGreaterThanOrEqual(230); // request and response each wait 120 ms

    await proxy.latency(150, 'downstream');
    const down = await get(`${base}/slow`);
    expect(down.ms).toBeGreaterThanOrEqual(145);

    await proxy.heal();
    const healed = await get(`${base}/fast`);
    expect(healed.status).toBe(200);
    expect(healed.ms).toBeLessThan(both.ms);
  });

  it('slows down connections that were already open', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await get(`${base}/warm`, agent);
    await proxy.latency(100);
    const slowed = await get(`${base}/warm`, agent);
    expect(slowed.ms).toBeGreaterThanOrEqual(190);
    expect(proxy.totalConnections).toBe(1);
    agent.destroy();
  });

  it('resets open and new connections with ECONNRESET, then heals', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await get(`${base}/before`, agent);
    const [socket] = Object.values(agent.freeSockets).flat();
    expect(socket).toBeDefined();
    const closed = new Promise<void>((resolve) => socket?.once('close', () => resolve()));

    await proxy.reset();
    await closed; // the idle keep-alive socket was aborted by the proxy

    expect((await get(`${base}/during`)).error).toBe('ECONNRESET');
    expect(upstream.requestsTo('/during')).toBe(0);

    await proxy.heal();
    expect((await get(`${base}/after`, agent)).status).toBe(200);
    agent.destroy();
  });

  it('blackholes: accepts, never answers, holds data until heal', async () => {
    await proxy.blackhole();
    const timedOut = await get(`${base}/void`, false, 300);
    expect(timedOut.error).toBe('TIMEOUT');
    expect(proxy.totalConnections).toBe(1);
    expect(proxy.stats().upstreamConnects).toBe(0);
    expect(upstream.requestsTo('/void')).toBe(0);

    const held = get(`${base}/held`, false, 5000);
    // Like a real partition, the proxy does not learn that the first client gave up.
    await waitFor(() => proxy.totalConnections === 2, { description: 'held connection accepted' });
    expect(proxy.openConnections).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(upstream.requestsTo('/held')).toBe(0);
    await proxy.heal();
    expect((await held).status).toBe(200);
    expect(upstream.requestsTo('/held')).toBe(1);
  });

  it('blackholes connections that were already open', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await get(`${base}/open`, agent);
    await proxy.blackhole();
    expect((await get(`${base}/open`, agent, 300)).error).toBe('TIMEOUT');
    expect(upstream.requestsTo('/open')).toBe(1);
    agent.destroy();
  });

  it('refuses connections with ECONNREFUSED and listens again on the same port on heal', async () => {
    const port = proxy.port;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await get(`${base}/open`, agent);
    const [socket] = Object.values(agent.freeSockets).flat();
    const closed = new Promise<void>((resolve) => socket?.once('close', () => resolve()));

    await proxy.refuse();
    expect(proxy.mode).toBe('refuse');
    await closed; // open connections go down with the listener
    agent.destroy();
    expect(await tcpConnect(port)).toBe('ECONNREFUSED');
    expect((await get(`${base}/refused`)).error).toBe('ECONNREFUSED');
    await proxy.heal();
    expect(proxy.port).toBe(port);
    expect((await get(`${base}/back`)).status).toBe(200);
  });

  it('resets the client when the target is down', async () => {
    const target = await startHttpUpstream();
    await target.close();
    const dead = await startFaultProxy({ target: { host: target.host, port: target.port } });
    try {
      expect((await get(`http://127.0.0.1:${dead.port}/`)).error).toBe('ECONNRESET');
      expect(dead.stats()).toMatchObject({ connections: { total: 1 }, upstreamConnects: 1 });
    } finally {
      await dead.close();
    }
  });
});

describe('TcpFaultProxy in front of redis-server', () => {
  let redis: RedisTestServer;
  let proxy: TcpFaultProxy;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startFaultProxy({ target: { host: redis.host, port: redis.port } });
    client = new Redis(proxy.port, proxy.host, { commandTimeout: 300, maxRetriesPerRequest: 0 });
    await client.ping();
  });

  afterAll(async () => {
    client.disconnect();
    await proxy.close();
    await redis.stop();
  });

  it('is observed by ioredis: latency, blackhole timeouts, recovery after heal', async () => {
    await proxy.latency(60);
    const started = performance.now();
    expect(await client.ping()).toBe('PONG');
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);

    await proxy.blackhole();
    await expect(client.ping()).rejects.toThrow(/timed out/i);

    await proxy.heal();
    await waitFor(async () => (await client.ping().catch(() => undefined)) === 'PONG', {
      description: 'ioredis answering again',
    });
  });
});
