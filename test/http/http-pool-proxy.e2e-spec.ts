import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import {
  explainHttpPoolConfig,
  getHttpPoolClientToken,
  getHttpPoolToken,
  type HttpPoolClient,
  HttpPoolModule,
} from '@nest-pools/http';
import {
  type ForwardProxy,
  type HttpTestUpstream,
  makeTestCertificates,
  startForwardProxy,
  startHttpUpstream,
  waitFor,
} from '@nest-pools/testing';
import type { HttpService } from '@nestjs/axios';
import type { LoggerService } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import { AxiosError } from 'axios';
import type { Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';

import type { HttpPoolOptions } from '../support/http.js';

const HIDDEN = 'only-via-proxy.test';
const USER = 'bot';
const PASSWORD = 'S3cr3t-pr0xy';

interface Started {
  moduleRef: TestingModule;
  http: HttpService;
  client: HttpPoolClient;
  registry: Registry;
}

/** Outcome of one request: the status, or the AxiosError it failed with. */
async function outcome(request: Promise<{ status: number }>): Promise<number | AxiosError> {
  try {
    return (await request).status;
  } catch (error) {
    if (error instanceof AxiosError) return error;
    throw error;
  }
}

async function failure(request: Promise<{ status: number }>): Promise<AxiosError> {
  const result = await outcome(request);
  if (typeof result === 'number') throw new Error(`expected a failure, got status ${result}`);
  return result;
}

/**
 * `HttpPoolModule` through a real forward proxy: the standard env variables, `HTTP_PROXY_URL` /
 * the `proxy` option, per-request `proxy`, authentication and failures. Which way a request went
 * is read from the proxy's own per-target counts and the upstream's, never from timing.
 */
describe('HttpPoolModule through a forward proxy', () => {
  let upstream: HttpTestUpstream;
  let proxy: ForwardProxy;
  let other: ForwardProxy;
  let secured: ForwardProxy;
  let hidden: string;
  const modules: TestingModule[] = [];
  const logs: string[] = [];
  const logger: LoggerService = {
    log: (m: unknown) => void logs.push(String(m)),
    error: (m: unknown) => void logs.push(String(m)),
    warn: (m: unknown) => void logs.push(String(m)),
    debug: (m: unknown) => void logs.push(String(m)),
    verbose: (m: unknown) => void logs.push(String(m)),
  };

  async function start(pool: HttpPoolOptions, env: Record<string, string> = {}): Promise<Started> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, skipProcessEnv: true, load: [() => env] }),
        HttpPoolModule.forRoot({ retries: 0, ...pool }),
      ],
    })
      .setLogger(logger)
      .compile();
    await moduleRef.init();
    modules.push(moduleRef);
    const name = pool?.name ?? 'default';
    return {
      moduleRef,
      http: moduleRef.get<HttpService>(getHttpPoolToken(name)),
      client: moduleRef.get<HttpPoolClient>(getHttpPoolClientToken(name)),
      registry: moduleRef.get<Registry>(POOL_METRICS_REGISTRY),
    };
  }

  beforeAll(async () => {
    upstream = await startHttpUpstream({
      routes: {
        '/slow': { latencyMs: 150 },
        '/moved': { status: 302, headers: { location: '/landed' } },
        '/big': { bodySize: 256 * 1024 },
      },
    });
    const hosts = { [HIDDEN]: '127.0.0.1' };
    proxy = await startForwardProxy({ hosts });
    other = await startForwardProxy({ hosts });
    secured = await startForwardProxy({ hosts, auth: { username: USER, password: PASSWORD } });
    hidden = `${HIDDEN}:${upstream.port}`;
  });
  afterEach(async () => {
    await Promise.all(modules.splice(0).map((m) => m.close()));
    for (const p of [proxy, other, secured]) p.resetCounters();
    upstream.resetCounters();
    logs.length = 0;
  });
  afterAll(async () => {
    for (const p of [proxy, other, secured]) await p?.close();
    await upstream?.close();
  });

  it('reaches a host only the proxy resolves through HTTP_PROXY, and fails without it', async () => {
    const { http } = await start({}, { HTTP_PROXY: proxy.url });
    const res = await firstValueFrom(http.get(`http://${hidden}/via`));
    expect(res.status).toBe(200);
    expect(proxy.counts(hidden)).toEqual({ requests: 1, connects: 0 });
    expect(upstream.requestsTo('/via')).toBe(1);

    const direct = await start({ name: 'direct' });
    const error = await failure(firstValueFrom(direct.http.get(`http://${hidden}/via`)));
    expect(error.code).toBe('ENOTFOUND');
    expect(upstream.requestsTo('/via')).toBe(1);
  });

  it('follows redirects and streams bodies through the proxy', async () => {
    const { http } = await start({}, { HTTP_PROXY: proxy.url });
    const moved = await firstValueFrom(http.get(`http://${hidden}/moved`));
    expect(moved.status).toBe(200);
    expect(upstream.requestsTo('/landed')).toBe(1);
    expect(proxy.counts(hidden).requests).toBe(2);

    const res = await firstValueFrom(
      http.get<NodeJS.ReadableStream>(`http://${hidden}/big`, { responseType: 'stream' }),
    );
    let bytes = 0;
    for await (const chunk of res.data) bytes += (chunk as Buffer).length;
    expect(bytes).toBe(256 * 1024);
    expect(proxy.counts(hidden).requests).toBe(3);
  });

  it('sends NO_PROXY hosts direct and the others through the proxy', async () => {
    const { http } = await start(
      {},
      { HTTP_PROXY: proxy.url, NO_PROXY: `example.invalid, 127.0.0.1:${upstream.port}` },
    );
    expect((await firstValueFrom(http.get(`${upstream.url}/direct`))).status).toBe(200);
    expect((await firstValueFrom(http.get(`http://${hidden}/proxied`))).status).toBe(200);
    expect(proxy.targets()).toEqual({ [hidden]: { requests: 1, connects: 0 } });
    expect(upstream.requestsTo('/direct')).toBe(1);
    expect(upstream.requestsTo('/proxied')).toBe(1);

    // A direct request's own failure is not blamed on the proxy, even on the proxy's port
    // (127.0.0.2 is loopback too, and nothing listens there).
    const named = `http://localhost:${proxy.port}`;
    const local = await start({ name: 'local' }, { HTTP_PROXY: named, NO_PROXY: '127.0.0.2' });
    const error = await failure(firstValueFrom(local.http.get(`http://127.0.0.2:${proxy.port}/`)));
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).not.toContain('proxy');
    expect(proxy.targets()).toEqual({ [hidden]: { requests: 1, connects: 0 } });
  });

  it('reads the lower-case names first, and HTTP_PROXY_URL over both', async () => {
    const lower = await start({}, { http_proxy: other.url, HTTP_PROXY: proxy.url });
    expect((await firstValueFrom(lower.http.get(`http://${hidden}/lower`))).status).toBe(200);
    expect(other.counts(hidden).requests).toBe(1);
    expect(proxy.counts(hidden).requests).toBe(0);

    const own = await start(
      { name: 'own' },
      { HTTP_PROXY_URL: proxy.url, http_proxy: other.url, HTTPS_PROXY: other.url },
    );
    expect((await firstValueFrom(own.http.get(`http://${hidden}/own`))).status).toBe(200);
    expect(proxy.counts(hidden).requests).toBe(1);
    expect(other.counts(hidden).requests).toBe(1);
  });

  it('gives each named client its own proxy option, and proxy: false goes direct', async () => {
    const env = { HTTP_PROXY: proxy.url };
    const viaOther = await start({ name: 'other', proxy: other.url }, env);
    const never = await start({ name: 'never', proxy: false }, env);
    expect((await firstValueFrom(viaOther.http.get(`http://${hidden}/a`))).status).toBe(200);
    expect(other.counts(hidden).requests).toBe(1);
    const error = await failure(firstValueFrom(never.http.get(`http://${hidden}/b`)));
    expect(error.code).toBe('ENOTFOUND');
    expect((await firstValueFrom(never.http.get(`${upstream.url}/b`))).status).toBe(200);
    expect(proxy.targets()).toEqual({});
    expect(upstream.requestsTo('/b')).toBe(1);
  });

  it('honours axios per-request proxy: false and proxy: { protocol, host, port, auth }', async () => {
    const { http } = await start({}, { HTTP_PROXY: proxy.url });
    const direct = await firstValueFrom(http.get(`${upstream.url}/no-proxy`, { proxy: false }));
    expect(direct.status).toBe(200);
    expect(proxy.targets()).toEqual({});
    expect(upstream.requestsTo('/no-proxy')).toBe(1);

    const chosen = {
      protocol: 'http',
      host: '127.0.0.1',
      port: secured.port,
      auth: { username: USER, password: PASSWORD },
    };
    for (let i = 0; i < 2; i++) {
      const res = await firstValueFrom(http.get(`http://${hidden}/chosen`, { proxy: chosen }));
      expect(res.status).toBe(200);
    }
    expect(secured.counts(hidden)).toEqual({ requests: 2, connects: 0 });
    expect(secured.connections).toBe(1);
    expect(proxy.targets()).toEqual({});

    const bad = await failure(
      firstValueFrom(http.get(`http://${hidden}/bad`, { proxy: { host: '', port: 0 } })),
    );
    expect(bad.code).toBe('ERR_BAD_OPTION_VALUE');
    expect(bad.message).toContain('`proxy`');
    expect(upstream.requestsTo('/bad')).toBe(0);
  });

  it('keeps the pool limits and metrics through the proxy', async () => {
    const { http, client, registry } = await start(
      { poolLimit: 10, limitPerHost: 2 },
      { HTTP_PROXY: proxy.url },
    );
    const all = await Promise.all(
      Array.from({ length: 6 }, (_, i) => firstValueFrom(http.get(`http://${hidden}/slow?i=${i}`))),
    );
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(proxy.counts(hidden).requests).toBe(6);
    // limitPerHost sockets to the proxy for this upstream, each reused.
    expect(proxy.connections).toBe(2);
    const stats = client.stats();
    expect(stats.connections).toBe(2);
    expect(stats.origins).toEqual([
      expect.objectContaining({ origin: proxy.url, connected: 2, idle: 2, active: 0 }),
    ]);
    const text = await registry.metrics();
    expect(text).toMatch(
      new RegExp(
        `http_client_request_duration_seconds_count\\{[^}]*server_address="${HIDDEN.replace(/\./g, '\\.')}"[^}]*\\} 6`,
      ),
    );
  });

  it('observes how long each proxied connection stayed open (http_client_connection_duration_seconds)', async () => {
    const own = await startForwardProxy({ hosts: { [HIDDEN]: '127.0.0.1' } });
    try {
      const { http, client, registry } = await start({}, { HTTP_PROXY: own.url });
      for (const i of [1, 2]) {
        expect((await firstValueFrom(http.get(`http://${hidden}/seq?i=${i}`))).status).toBe(200);
      }
      // One reused socket to the proxy; closing the proxy closes it: one connection, certain.
      expect(own.connections).toBe(1);
      await own.close();
      await waitFor(() => client.stats().connections === 0, {
        description: 'the proxied socket closed',
      });
      const metric = await registry
        .getSingleMetric('http_client_connection_duration_seconds')
        ?.get();
      const counts = (metric?.values ?? []).filter(
        (v) =>
          (v as { metricName?: string }).metricName ===
          'http_client_connection_duration_seconds_count',
      );
      expect(counts).toEqual([
        expect.objectContaining({
          labels: {
            pool_name: 'default',
            server_address: '127.0.0.1',
            server_port: String(own.port),
          },
          value: 1,
        }),
      ]);
    } finally {
      await own.close();
    }
  });

  it('tunnels HTTPS with CONNECT, certificate verification on (no CA given: refused)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'proxy-tls-'));
    let server: HttpsServer | undefined;
    try {
      const certs = await makeTestCertificates(dir);
      let accepted = 0;
      server = createHttpsServer(
        { key: await readFile(certs.key), cert: await readFile(certs.cert) },
        (_req, res) => res.end('secret'),
      );
      server.on('connection', () => accepted++);
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const { http } = await start({ retries: 2 }, { HTTPS_PROXY: proxy.url });
      const error = await failure(firstValueFrom(http.get(`https://127.0.0.1:${port}/`)));
      expect(error.code).toMatch(/CERT|UNABLE_TO_VERIFY|SELF_SIGNED/);
      expect(proxy.counts(`127.0.0.1:${port}`)).toEqual({ requests: 0, connects: 1 });
      expect(accepted).toBe(1);
      // HTTPS_PROXY only: plain http:// URLs go direct.
      expect((await firstValueFrom(http.get(`${upstream.url}/plain`))).status).toBe(200);
      expect(proxy.counts(`127.0.0.1:${upstream.port}`)).toEqual({ requests: 0, connects: 0 });

      // HTTP_PROXY alone serves https:// URLs too (undici's fallback), through a tunnel as well.
      const fallback = await start({ name: 'fallback' }, { HTTP_PROXY: other.url });
      const again = await failure(firstValueFrom(fallback.http.get(`https://127.0.0.1:${port}/`)));
      expect(again.code).toBe(error.code);
      expect(other.counts(`127.0.0.1:${port}`)).toEqual({ requests: 0, connects: 1 });
      expect(accepted).toBe(2);
    } finally {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('completes HTTPS through CONNECT with the proxy and tlsCaFile options, one tunnel per socket, limits kept', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'proxy-tls-ok-'));
    let server: HttpsServer | undefined;
    try {
      const certs = await makeTestCertificates(dir);
      let accepted = 0;
      let served = 0;
      server = createHttpsServer(
        { key: await readFile(certs.key), cert: await readFile(certs.cert) },
        (_req, res) => {
          served++;
          setTimeout(() => res.end('over tls'), 100);
        },
      );
      server.on('connection', () => accepted++);
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const target = `127.0.0.1:${port}`;
      const { http, client } = await start({
        proxy: proxy.url,
        tlsCaFile: certs.ca,
        limitPerHost: 2,
      });
      expect(client.config.tlsRejectUnauthorized).toBe(true);
      const bodies = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const res = await firstValueFrom(http.get<string>(`https://${target}/`));
          return res.data;
        }),
      );
      expect(bodies).toEqual(Array(5).fill('over tls'));
      // Two sockets per origin, each one CONNECT tunnel, carrying all five requests.
      expect(proxy.counts(target)).toEqual({ requests: 0, connects: 2 });
      expect(accepted).toBe(2);
      expect(served).toBe(5);
      expect(client.stats().origins.filter((o) => o.origin === `https://${target}`)).toHaveLength(
        1,
      );

      // The same proxy without the CA: the tunnel opens, the upstream's certificate is refused.
      const untrusted = await start({ name: 'untrusted', proxy: proxy.url, retries: 2 });
      const error = await failure(firstValueFrom(untrusted.http.get(`https://${target}/`)));
      expect(error.code).toMatch(/UNABLE_TO_VERIFY|SELF_SIGNED/);
      expect(error.message).toContain('HTTP_TLS_CA_FILE');
      // A certificate error is final: one tunnel, no retry, nothing served.
      expect(proxy.counts(target)).toEqual({ requests: 0, connects: 3 });
      expect(accepted).toBe(3);
      expect(served).toBe(5);
    } finally {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('authenticates with the credentials of the proxy URL; wrong ones fail with ERR_PROXY_AUTH, not retried', async () => {
    const good = await start({ proxy: secured.urlWith(USER, PASSWORD), retries: 2 });
    expect((await firstValueFrom(good.http.get(`http://${hidden}/auth`))).status).toBe(200);
    expect(secured.counts(hidden).requests).toBe(1);

    const bad = await start({
      name: 'bad',
      proxy: secured.urlWith(USER, 'wrong'),
      retries: 2,
      retryBackoffMs: 0,
    });
    const plain = await failure(firstValueFrom(bad.http.get(`http://${hidden}/denied`)));
    expect(plain.code).toBe('ERR_PROXY_AUTH');
    expect(plain.message).toContain(`proxy http://***:***@127.0.0.1:${secured.port}`);
    expect(plain.message).toContain('407');
    const tunnel = await failure(firstValueFrom(bad.http.get(`https://127.0.0.1:1/denied`)));
    expect(tunnel.code).toBe('ERR_PROXY_AUTH');
    expect(secured.authFailures).toBe(2);
    expect(upstream.requestsTo('/denied')).toBe(0);

    const none = await start({ name: 'none', proxy: secured.url });
    const missing = await failure(firstValueFrom(none.http.get(`http://${hidden}/denied`)));
    expect(missing.code).toBe('ERR_PROXY_AUTH');
    expect(missing.message).toContain('no credentials were given');
  });

  it('fails clearly when the proxy is down, retried as a refused connection', async () => {
    const gone = await startForwardProxy();
    const url = gone.urlWith(USER, PASSWORD);
    await gone.close();
    const { http, registry } = await start({ proxy: url, retries: 2, retryBackoffMs: 0 });
    const error = await failure(firstValueFrom(http.get(`http://${hidden}/down`)));
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).toContain(
      `Could not reach the proxy http://***:***@127.0.0.1:${gone.port}`,
    );
    expect(error.message).not.toContain(PASSWORD);
    const text = await registry.metrics();
    expect(text).toMatch(/http_client_retries_total\{[^}]*reason="connection_refused"[^}]*\} 2/);
  });

  it('answers a CONNECT the proxy cannot open with ERR_PROXY_TUNNEL, retried like a 502', async () => {
    const { http, registry } = await start({ proxy: proxy.url, retries: 1, retryBackoffMs: 0 });
    const error = await failure(firstValueFrom(http.get('https://127.0.0.1:1/')));
    expect(error.code).toBe('ERR_PROXY_TUNNEL');
    expect(error.status).toBe(502);
    expect(error.message).toContain(
      'could not open a tunnel to 127.0.0.1:1 (CONNECT answered 502)',
    );
    expect(proxy.counts('127.0.0.1:1')).toEqual({ requests: 0, connects: 2 });
    expect(await registry.metrics()).toMatch(
      /http_client_retries_total\{[^}]*reason="status_502"[^}]*\} 1/,
    );
  });

  it('never shows the proxy credentials in logs, explain output, stats, health, metrics or errors', async () => {
    const env = { HTTPS_PROXY: secured.urlWith(USER, PASSWORD), NO_PROXY: 'localhost' };
    const options = {
      proxy: secured.urlWith(USER, PASSWORD),
      healthUrl: `http://${hidden}/health`,
    };
    const { http, client, registry } = await start(options, env);
    expect((await firstValueFrom(http.get(`http://${hidden}/seen`))).status).toBe(200);
    const wrong = await start({
      name: 'wrong',
      proxy: secured.urlWith(USER, `${PASSWORD}-old`),
      healthUrl: `http://${hidden}/health`,
    });
    const error = await failure(firstValueFrom(wrong.http.get(`http://${hidden}/seen`)));
    const health = await wrong.client.checkHealth();
    expect(health.status).toBe('down');
    const explained = explainHttpPoolConfig(env, options);

    const shown = [
      ...logs,
      JSON.stringify(explained),
      JSON.stringify(client.stats()),
      JSON.stringify(await client.checkHealth()),
      JSON.stringify(health),
      await registry.metrics(),
      error.message,
      JSON.stringify(error.toJSON()),
    ].join('\n');
    expect(shown).not.toContain(PASSWORD);
    // What is shown instead: the proxy, with its credentials masked.
    expect(client.stats().proxy).toEqual({
      http: `http://***:***@127.0.0.1:${secured.port}`,
      https: `http://***:***@127.0.0.1:${secured.port}`,
      noProxy: 'localhost',
    });
    expect(logs).toContain(
      `requests go through proxies: http http://***:***@127.0.0.1:${secured.port}, https http://***:***@127.0.0.1:${secured.port}; direct for localhost`,
    );
    expect(explained.values.find((v) => v.key === 'proxy')?.value).toBe(
      `http://${USER}:***@127.0.0.1:${secured.port}`,
    );
    expect(String(health.error)).toContain('407');
  });

  it('refuses a malformed proxy variable at startup, naming it and masking the value', async () => {
    const values = [
      `http://${USER}:${PASSWORD}@proxy.internal:3128/path`,
      `socks://${USER}:${PASSWORD}@proxy:1080`,
    ];
    for (const value of values) {
      const error = await start({}, { HTTPS_PROXY: value }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      const { name, message } = error as Error;
      expect(name).toBe('ConfigValidationError');
      expect(message).toContain('HTTPS_PROXY');
      expect(message).toContain(`${USER}:***@`);
      expect(message).not.toContain(PASSWORD);
    }
  });
});
