import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { jest } from '@jest/globals';
import { ConfigValidationError } from '@nest-pools/core';
import { RedisPoolHealthIndicator, RedisPoolModule, RedisPoolService } from '@nest-pools/redis';
import {
  getFreePort,
  makeTestCertificates,
  type RedisTestServer,
  startRedis,
  type TestCertificates,
  waitFor,
} from '@nest-pools/testing';
import { Logger } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';

describe('RedisPoolModule over TLS (rediss://, real redis-server with a private CA)', () => {
  let dir: string;
  let certs: TestCertificates;
  let server: RedisTestServer;
  let tlsUrl: string;

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    dir = await mkdtemp(join(tmpdir(), 'nest-pools-tls-'));
    certs = await makeTestCertificates(dir);
    const tlsPort = await getFreePort('127.0.0.1');
    server = await startRedis({
      args: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        certs['cert'],
        '--tls-key-file',
        certs['key'],
        '--tls-ca-cert-file',
        certs['ca'],
        '--tls-auth-clients',
        'no',
      ],
    });
    tlsUrl = `rediss://127.0.0.1:${tlsPort}`;
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  async function poolModule(env: Record<string, string>): Promise<TestingModule> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => env] }),
        RedisPoolModule.forRoot({ healthTimeoutMs: 500, connectTimeoutMs: 1000 }),
      ],
    }).compile();
    await moduleRef.init();
    return moduleRef;
  }

  it('connects with the CA from REDIS_TLS_CA_FILE: main client, dedicated connections and health', async () => {
    const moduleRef = await poolModule({ REDIS_URL: tlsUrl, REDIS_TLS_CA_FILE: certs['ca'] });
    try {
      const pools = moduleRef.get(RedisPoolService);
      const client = pools.getClient();
      await client.set('over-tls', 'yes');
      expect(await client.get('over-tls')).toBe('yes');
      expect(await pools.withConnection('default', (c) => c.get('over-tls'))).toBe('yes');
      // The server lists the main client as connected to its TLS port.
      const plain = new Redis(server.url);
      const list = String(await plain.client('LIST')).split('\n');
      plain.disconnect();
      const main = list.find((line) => line.includes('name=nest-pools:default:main'));
      expect(main).toContain(`laddr=127.0.0.1:${new URL(tlsUrl).port}`);
      const health = await moduleRef.get(RedisPoolHealthIndicator).isHealthy('redis');
      expect(health['redis']?.status).toBe('up');
    } finally {
      await moduleRef.close();
    }
  });

  it('keeps certificate verification on: a server signed by an untrusted CA is refused', async () => {
    const envs: Record<string, string>[] = [
      { REDIS_URL: tlsUrl },
      { REDIS_URL: tlsUrl, REDIS_TLS_CA_FILE: certs['otherCa'] },
    ];
    for (const env of envs) {
      const moduleRef = await poolModule(env);
      try {
        const client = moduleRef.get(RedisPoolService).getClient();
        const errors: string[] = [];
        client.on('error', (err: Error) => errors.push(err.message));
        const health = await moduleRef.get(RedisPoolHealthIndicator).isHealthy('redis');
        expect(health['redis']?.status).toBe('down');
        // The client keeps retrying with backoff; each attempt fails the same way.
        await waitFor(() => errors.length > 0, {
          timeoutMs: 5000,
          intervalMs: 20,
          description: 'a TLS error from a reconnect attempt',
        });
        expect(errors.join('\n')).toMatch(/self[- ]signed certificate|unable to (get|verify)/i);
        expect(client.status).not.toBe('ready');
      } finally {
        await moduleRef.close();
      }
    }
  });

  it('a socket that emits a second error (as a failed TLS handshake can) never throws it uncaught', async () => {
    const moduleRef = await poolModule({ REDIS_URL: tlsUrl, REDIS_TLS_CA_FILE: certs['ca'] });
    try {
      const pools = moduleRef.get(RedisPoolService);
      const main = pools.getClient();
      const subscriber = pools.subscriber();
      await subscriber.subscribe('tls-errors');
      const dedicated = await pools.acquire();
      const clients = [main, subscriber, dedicated];
      for (const client of clients) {
        client.on('error', () => undefined);
        const stream = (client as Redis).stream;
        expect(stream).toBeDefined();
        // ioredis listens with once(): the first error is its own, a second one found no
        // listener and was thrown out of emit() (in production: an uncaught exception).
        stream.emit('error', new Error('first: certificate verify failed'));
        expect(() =>
          stream.emit('error', new Error('second: tlsv1 alert decode error')),
        ).not.toThrow();
        stream.destroy();
      }
      await pools.release(dedicated);
    } finally {
      await moduleRef.close();
    }
  });

  it('refuses a CA file that cannot be read, or one given with a redis:// URL, naming the variable', async () => {
    const missing = join(dir, 'missing.pem');
    const build = (env: Record<string, string>) =>
      Test.createTestingModule({
        imports: [
          ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => env] }),
          RedisPoolModule.forRoot({}),
        ],
      }).compile();
    const unreadable = await build({ REDIS_URL: tlsUrl, REDIS_TLS_CA_FILE: missing }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(unreadable).toBeInstanceOf(ConfigValidationError);
    expect(String(unreadable)).toContain('REDIS_TLS_CA_FILE');
    expect(String(unreadable)).toContain(missing);
    expect(String(unreadable)).toContain('readable PEM file');
    const plain = await build({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_TLS_CA_FILE: certs['ca'],
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(plain).toBeInstanceOf(ConfigValidationError);
    expect(String(plain)).toMatch(/REDIS_TLS_CA_FILE[\s\S]*rediss:\/\//);
  });
});
