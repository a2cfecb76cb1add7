import type { EventEmitter } from 'node:events';
import { connect } from 'node:net';

import type { ForwardProxy, HttpTestUpstream } from '@nest-pools/testing';
import { getFreePort, startForwardProxy, startHttpUpstream } from '@nest-pools/testing';
import { ProxyAgent, request } from 'undici';

const HIDDEN = 'only-via-proxy.test';

/** Sends the raw bytes to the proxy and resolves with the first line of its answer. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(text.slice(0, end));
      }
    });
    socket.on('error', reject);
    socket.write(bytes);
  });
}

describe('ForwardProxy (test kit)', () => {
  let upstream: HttpTestUpstream;
  let proxy: ForwardProxy;
  let secured: ForwardProxy;
  const agents: ProxyAgent[] = [];

  function via(uri: string, tunnel: boolean): ProxyAgent {
    const agent = new ProxyAgent({ uri, proxyTunnel: tunnel });
    agents.push(agent);
    return agent;
  }

  beforeAll(async () => {
    upstream = await startHttpUpstream();
    proxy = await startForwardProxy({ hosts: { [HIDDEN]: '127.0.0.1' } });
    secured = await startForwardProxy({
      hosts: { [HIDDEN]: '127.0.0.1' },
      auth: { username: 'bot', password: 'p@ss:word' },
    });
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
    upstream.resetCounters();
    proxy.resetCounters();
    secured.resetCounters();
  });
  afterAll(async () => {
    await proxy?.close();
    await secured?.close();
    await upstream?.close();
  });

  it('adds one close listener per kept-alive upstream socket, however many requests reuse it', async () => {
    const agent = via(proxy.url, false);
    for (let i = 0; i < 15; i++) {
      const res = await request(`http://${HIDDEN}:${upstream.port}/reuse`, { dispatcher: agent });
      await res.body.dump();
    }
    expect(upstream.totalConnections).toBe(1);
    // The proxy's own bookkeeping of the sockets it closes at the end (client and upstream).
    const sockets = (proxy as unknown as { sockets: Set<EventEmitter> }).sockets;
    const most = Math.max(...[...sockets].map((socket) => socket.listenerCount('close')));
    // Node's own listeners plus the proxy's one; one per request would be 15 and more.
    expect(most).toBeLessThan(5);
  });

  it('forwards absolute-URI requests to a name only it resolves, counting them per target', async () => {
    const target = `${HIDDEN}:${upstream.port}`;
    const dispatcher = via(proxy.url, false);
    for (let i = 0; i < 3; i++) {
      const res = await request(`http://${target}/hello?x=${i}`, { dispatcher });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    expect(proxy.counts(target)).toEqual({ requests: 3, connects: 0 });
    expect(upstream.requestsTo('/hello')).toBe(3);
    expect(upstream.lastRequest?.url).toBe('/hello?x=2');
    expect(upstream.lastRequest?.headers.host).toBe(target);
    expect(upstream.lastRequest?.headers['proxy-connection']).toBeUndefined();
  });

  it('opens CONNECT tunnels and counts them', async () => {
    const target = `${HIDDEN}:${upstream.port}`;
    const res = await request(`http://${target}/tunnelled`, { dispatcher: via(proxy.url, true) });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(proxy.counts(target)).toEqual({ requests: 0, connects: 1 });
    expect(proxy.connections).toBe(1);
    expect(upstream.requestsTo('/tunnelled')).toBe(1);
  });

  it('answers 407 without the right credentials, and serves with them', async () => {
    const target = `${HIDDEN}:${upstream.port}`;
    const basic = (user: string, pass: string) =>
      `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    const request407 = `GET http://${target}/ HTTP/1.1\r\nHost: ${target}\r\n\r\n`;
    expect(await rawExchange(secured.port, request407)).toBe(
      'HTTP/1.1 407 Proxy Authentication Required',
    );
    const wrong = `CONNECT ${target} HTTP/1.1\r\nProxy-Authorization: ${basic('bot', 'nope')}\r\n\r\n`;
    expect(await rawExchange(secured.port, wrong)).toBe(
      'HTTP/1.1 407 Proxy Authentication Required',
    );
    expect(secured.authFailures).toBe(2);
    expect(secured.counts(target)).toEqual({ requests: 0, connects: 0 });

    const dispatcher = via(secured.urlWith('bot', 'p@ss:word'), true);
    const res = await request(`http://${target}/ok`, { dispatcher });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(secured.counts(target)).toEqual({ requests: 0, connects: 1 });
    expect(upstream.lastRequest?.headers['proxy-authorization']).toBeUndefined();
  });

  it('answers 502 when the target cannot be reached', async () => {
    const closed = await getFreePort();
    expect(await rawExchange(proxy.port, `CONNECT 127.0.0.1:${closed} HTTP/1.1\r\n\r\n`)).toBe(
      'HTTP/1.1 502 Bad Gateway',
    );
    const res = await request(`http://127.0.0.1:${closed}/`, { dispatcher: via(proxy.url, false) });
    expect(res.statusCode).toBe(502);
    await res.body.dump();
    expect(proxy.counts(`127.0.0.1:${closed}`)).toEqual({ requests: 1, connects: 1 });
  });

  it('close() ends open tunnels and stops listening', async () => {
    const own = await startForwardProxy();
    const socket = connect({ host: '127.0.0.1', port: own.port });
    const established = new Promise<string>((resolve) =>
      socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))),
    );
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\n\r\n`);
    expect(await established).toMatch(/^HTTP\/1\.1 200/);
    await own.close();
    await closed;
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: own.port });
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
