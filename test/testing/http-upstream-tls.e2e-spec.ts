import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import {
  type ClientHttp2Session,
  connect as connectHttp2,
  constants as http2Constants,
} from 'node:http2';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  type HttpTestUpstream,
  makeTestCertificates,
  startHttpUpstream,
  type TestCertificates,
  waitFor,
} from '@nest-pools/testing';

interface TlsReply {
  status: number;
  connectionId: string;
  body: string;
}

/** One HTTPS request through node:https (HTTP/1.1 only in ALPN). */
function httpsGet(
  url: string,
  options: { ca: Buffer; agent?: Agent; cert?: Buffer; key?: Buffer },
) {
  return new Promise<TlsReply>((resolve, reject) => {
    const req = request(
      url,
      { ca: options.ca, cert: options.cert, key: options.key, agent: options.agent ?? false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            connectionId: String(res.headers['x-upstream-connection-id']),
            body: Buffer.concat(parts).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** One GET as a stream of an HTTP/2 session. */
function h2Get(session: ClientHttp2Session, path: string): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    const parts: Buffer[] = [];
    let status = 0;
    let connectionId = '';
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      connectionId = String(headers['x-upstream-connection-id']);
    });
    stream.on('data', (chunk: Buffer) => parts.push(chunk));
    stream.on('error', reject);
    stream.on('end', () =>
      resolve({ status, connectionId, body: Buffer.concat(parts).toString() }),
    );
    stream.end();
  });
}

function connectH2(url: string, ca: Buffer): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2(url, { ca });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

function closeH2(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => session.close(() => resolve()));
}

describe('HttpTestUpstream over TLS and HTTP/2', () => {
  let dir: string;
  let certs: TestCertificates;
  let ca: Buffer;
  const upstreams: HttpTestUpstream[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nest-pools-upstream-tls-'));
    certs = await makeTestCertificates(dir);
    ca = readFileSync(certs.ca);
  });

  afterAll(async () => {
    await Promise.all(upstreams.map((u) => u.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function start(options: Parameters<typeof startHttpUpstream>[0]) {
    const upstream = await startHttpUpstream(options);
    upstreams.push(upstream);
    return upstream;
  }

  const serverTls = () => ({ key: readFileSync(certs.key), cert: readFileSync(certs.cert) });

  it('serves HTTPS on an https:// URL and counts keep-alive connections', async () => {
    const upstream = await start({ tls: serverTls() });
    expect(upstream.url).toBe(`https://127.0.0.1:${upstream.port}`);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const replies = [];
      for (let i = 0; i < 5; i++) replies.push(await httpsGet(`${upstream.url}/a`, { ca, agent }));
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(new Set(replies.map((r) => r.connectionId))).toEqual(new Set(['1']));
    } finally {
      agent.destroy();
    }
    expect(upstream.totalConnections).toBe(1);
    expect(upstream.totalRequests).toBe(5);
    expect(upstream.requests.map((r) => r.httpVersion)).toEqual(Array(5).fill('1.1'));
    expect(upstream.lastRequest?.clientCertificate).toBeUndefined();
    expect(upstream.stats()).toMatchObject({ http2Sessions: 0, tlsClientErrors: 0 });
  });

  it('with requestCert, refuses a client without a certificate and records the one with it', async () => {
    const upstream = await start({ tls: { ...serverTls(), ca, requestCert: true } });
    await expect(httpsGet(`${upstream.url}/mtls`, { ca })).rejects.toThrow();
    await waitFor(() => upstream.tlsClientErrors === 1, { description: 'the refused handshake' });
    expect(upstream.totalRequests).toBe(0);
    expect(upstream.totalConnections).toBe(0);

    const reply = await httpsGet(`${upstream.url}/mtls`, {
      ca,
      cert: readFileSync(certs.clientCert),
      key: readFileSync(certs.clientKey),
    });
    expect(reply.status).toBe(200);
    expect(upstream.lastRequest?.clientCertificate).toBe('nest-pools test client');
    expect(upstream.totalConnections).toBe(1);
  });

  it('serves HTTP/2: many concurrent streams on one session and one connection', async () => {
    const upstream = await start({ tls: serverTls(), http2: true, latencyMs: 20 });
    const session = await connectH2(upstream.url, ca);
    try {
      expect(session.alpnProtocol).toBe('h2');
      const replies = await Promise.all(Array.from({ length: 20 }, () => h2Get(session, '/s')));
      expect(replies.every((r) => r.status === 200)).toBe(true);
      expect(new Set(replies.map((r) => r.connectionId))).toEqual(new Set(['1']));
    } finally {
      await closeH2(session);
    }
    expect(upstream.totalRequests).toBe(20);
    expect(upstream.totalSessions).toBe(1);
    expect(upstream.totalConnections).toBe(1);
    expect(new Set(upstream.requests.map((r) => r.httpVersion))).toEqual(new Set(['2.0']));
  });

  it('with allowHTTP1, answers HTTP/1.1 clients on the same port', async () => {
    const upstream = await start({ tls: serverTls(), http2: { allowHTTP1: true } });
    const reply = await httpsGet(`${upstream.url}/one`, { ca });
    expect(reply.status).toBe(200);
    const session = await connectH2(upstream.url, ca);
    try {
      expect((await h2Get(session, '/two')).status).toBe(200);
    } finally {
      await closeH2(session);
    }
    expect(upstream.requests.map((r) => [r.path, r.httpVersion])).toEqual([
      ['/one', '1.1'],
      ['/two', '2.0'],
    ]);
    expect(upstream.totalSessions).toBe(1);
    expect(upstream.totalConnections).toBe(2);
  });

  it('resets one HTTP/2 stream (RST_STREAM) and keeps the session serving', async () => {
    const upstream = await start({
      tls: serverTls(),
      http2: true,
      routes: { '/crash': { reset: 'before-response' } },
    });
    const session = await connectH2(upstream.url, ca);
    try {
      await expect(h2Get(session, '/crash')).rejects.toMatchObject({
        code: 'ERR_HTTP2_STREAM_ERROR',
        message: expect.stringContaining('NGHTTP2_INTERNAL_ERROR'),
      });
      expect((await h2Get(session, '/after')).status).toBe(200);
    } finally {
      await closeH2(session);
    }
    expect(upstream.totalSessions).toBe(1);
  });

  it('closes an idle HTTP/2 session with GOAWAY after keepAliveTimeoutMs', async () => {
    const upstream = await start({ tls: serverTls(), http2: true, keepAliveTimeoutMs: 150 });
    const session = await connectH2(upstream.url, ca);
    const goaway = new Promise<number>((resolve) => session.once('goaway', resolve));
    const closed = new Promise<void>((resolve) => session.once('close', resolve));
    expect((await h2Get(session, '/idle')).status).toBe(200);
    expect(await goaway).toBe(http2Constants.NGHTTP2_NO_ERROR);
    await closed;
    await waitFor(() => upstream.openConnections === 0, { description: 'the server side closed' });
  });
});
