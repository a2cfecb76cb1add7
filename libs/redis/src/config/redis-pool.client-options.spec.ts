import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

import { parseRedisPoolConfig } from './index.js';
import {
  buildDedicatedClientOptions,
  buildMainClientOptions,
  createRetryStrategy,
  parseRedisUrl,
  reconnectOnReadonly,
} from './redis-pool.client-options.js';

describe('parseRedisUrl', () => {
  it('reads host, port, credentials and db', () => {
    expect(parseRedisUrl('redis://user:p%40ss@cache.local:6380/2')).toEqual({
      host: 'cache.local',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
    });
  });

  it('defaults the port and turns rediss:// into verified TLS with SNI', () => {
    expect(parseRedisUrl('rediss://:secret@redis.example.com')).toEqual({
      host: 'redis.example.com',
      port: 6379,
      password: 'secret',
      tls: { servername: 'redis.example.com' },
    });
  });

  it("sends no SNI for an IP address (verified against the certificate's IP entries)", () => {
    expect(parseRedisUrl('rediss://127.0.0.1:6380').tls).toEqual({});
    expect(parseRedisUrl('rediss://[::1]:6380').tls).toEqual({});
  });

  it("adds the CA of tlsCaFile to Node's trusted CAs, for main and dedicated connections", () => {
    const dir = mkdtempSync(join(tmpdir(), 'nest-pools-ca-'));
    try {
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const config = parseRedisPoolConfig({
        REDIS_URL: 'rediss://redis.internal:6380',
        REDIS_TLS_CA_FILE: caFile,
      });
      const main = buildMainClientOptions(config).options as { tls?: { ca?: string[] } };
      const dedicated = buildDedicatedClientOptions(config).options as { tls?: { ca?: string[] } };
      for (const tls of [main.tls, dedicated.tls]) {
        expect(tls).toMatchObject({ servername: 'redis.internal' });
        expect(tls?.ca).toEqual([...rootCertificates, readFileSync(caFile, 'utf8')]);
      }
      expect(
        (
          buildMainClientOptions(parseRedisPoolConfig({ REDIS_URL: 'rediss://h' })).options as {
            tls?: { ca?: unknown };
          }
        ).tls?.ca,
      ).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('strips IPv6 brackets', () => {
    expect(parseRedisUrl('redis://[::1]:7000').host).toBe('::1');
  });
});

describe('createRetryStrategy', () => {
  it('grows exponentially from the base and never exceeds the cap', () => {
    const retry = createRetryStrategy({ retryBaseDelayMs: 100, retryMaxDelayMs: 5000 });
    for (let attempt = 1; attempt <= 30; attempt++) {
      const delay = retry(attempt);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(5000, 100 * 2 ** (attempt - 1)));
    }
  });

  it('jitters, so clients do not reconnect in step', () => {
    const retry = createRetryStrategy({ retryBaseDelayMs: 100, retryMaxDelayMs: 5000 });
    const delays = new Set(Array.from({ length: 20 }, () => retry(8)));
    expect(delays.size).toBeGreaterThan(1);
  });
});

describe('reconnectOnReadonly', () => {
  it('reconnects and resends on READONLY only', () => {
    expect(
      reconnectOnReadonly(new Error("READONLY You can't write against a read only replica.")),
    ).toBe(2);
    expect(reconnectOnReadonly(new Error('WRONGTYPE Operation against a key'))).toBe(false);
  });
});

describe('buildMainClientOptions', () => {
  it('maps the standalone config onto ioredis options', () => {
    const config = parseRedisPoolConfig(
      {
        REDIS_URL: 'redis://:pw@10.0.0.5:6390/1',
        REDIS_SOCKET_TIMEOUT: '1.5',
        REDIS_CONNECT_TIMEOUT: '3',
      },
      { name: 'cache', autoPipelining: false, offlineQueueMax: 5 },
    );
    const built = buildMainClientOptions(config);
    expect(built.topology).toBe('standalone');
    if (built.topology === 'cluster') throw new Error('unexpected topology');
    expect(built.options).toMatchObject({
      host: '10.0.0.5',
      port: 6390,
      password: 'pw',
      db: 1,
      commandTimeout: 1500,
      socketTimeout: 1500,
      connectTimeout: 3000,
      keepAlive: 30_000,
      maxRetriesPerRequest: 3,
      autoResendUnfulfilledCommands: true,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      lazyConnect: true,
      connectionName: 'nest-pools:cache:main',
    });
    expect(typeof built.options.retryStrategy).toBe('function');
  });

  it.each([
    ['true', true],
    ['false', false],
  ])('maps REDIS_RESEND_UNFULFILLED=%s to autoResendUnfulfilledCommands', (env, expected) => {
    const config = parseRedisPoolConfig({ REDIS_RESEND_UNFULFILLED: env });
    expect(config.resendUnfulfilled).toBe(expected);
    const standalone = buildMainClientOptions(config);
    if (standalone.topology === 'cluster') throw new Error('unexpected topology');
    expect(standalone.options.autoResendUnfulfilledCommands).toBe(expected);
    const cluster = buildMainClientOptions({ ...config, topology: 'cluster', clusterNodes: [] });
    if (cluster.topology !== 'cluster') throw new Error('unexpected topology');
    expect(cluster.options.redisOptions?.autoResendUnfulfilledCommands).toBe(expected);
  });

  it('builds sentinel options with the sentinel password', () => {
    const config = parseRedisPoolConfig({
      REDIS_SENTINELS: '127.0.0.1:26379,127.0.0.1:26380',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 's3cret',
    });
    const built = buildMainClientOptions(config);
    if (built.topology === 'cluster') throw new Error('unexpected topology');
    expect(built.topology).toBe('sentinel');
    expect(built.options).toMatchObject({
      sentinels: [
        { host: '127.0.0.1', port: 26379 },
        { host: '127.0.0.1', port: 26380 },
      ],
      name: 'mymaster',
      sentinelPassword: 's3cret',
      failoverDetector: true,
    });
    expect(built.options.host).toBeUndefined();
  });

  it('builds cluster options with per-node timeouts and scale reads', () => {
    const config = parseRedisPoolConfig({
      REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001',
      REDIS_CLUSTER_SCALE_READS: 'all',
      REDIS_AUTO_PIPELINING: 'true',
    });
    const built = buildMainClientOptions(config);
    if (built.topology !== 'cluster') throw new Error('expected cluster');
    expect(built.nodes).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '127.0.0.1', port: 7001 },
    ]);
    expect(built.options.scaleReads).toBe('all');
    expect(built.options.enableAutoPipelining).toBe(true);
    expect(built.options.redisOptions).toMatchObject({ commandTimeout: 2000 });
    expect(built.options.redisOptions).not.toHaveProperty('lazyConnect');
  });
});

describe('buildDedicatedClientOptions', () => {
  it('has no command timeout, no offline queue and no reconnect', () => {
    const built = buildDedicatedClientOptions(parseRedisPoolConfig({}, { name: 'jobs' }));
    if (built.topology === 'cluster') throw new Error('unexpected topology');
    expect(built.options.commandTimeout).toBeUndefined();
    expect(built.options.socketTimeout).toBeUndefined();
    expect(built.options.enableOfflineQueue).toBe(false);
    expect(built.options.retryStrategy?.(1)).toBeNull();
    expect(built.options.connectionName).toBe('nest-pools:jobs:dedicated');
  });
});
