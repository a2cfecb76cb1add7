import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { jest } from '@jest/globals';
import { ConfigValidationError, POOL_METRICS_REGISTRY, PoolTimeoutError } from '@nest-pools/core';
import {
  getIoRedisConnectionToken,
  getRedisPoolToken,
  InjectRedisPool,
  RedisPoolHealthIndicator,
  RedisPoolModule,
  RedisPoolService,
} from '@nest-pools/redis';
import { type RedisTestServer, startRedis } from '@nest-pools/testing';
import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';

const run = promisify(execFile);

/**
 * The tokens `@InjectRedis()` and `@InjectRedis('second')` of @nestjs-modules/ioredis register,
 * read in a plain Node process: the package is CommonJS requiring ESM-only Nest 12, which Node
 * loads but Jest's module loader cannot.
 */
async function injectRedisTokens(): Promise<[string, string]> {
  const script = [
    "import 'reflect-metadata';",
    "import { InjectRedis } from '@nestjs-modules/ioredis';",
    'class Target { constructor(a, b) {} }',
    "InjectRedis()(Target, undefined, 0); InjectRedis('second')(Target, undefined, 1);",
    "const params = Reflect.getMetadata('self:paramtypes', Target);",
    'console.log(JSON.stringify(params.sort((x, y) => x.index - y.index).map((p) => p.param)));',
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout) as [string, string];
}

describe('RedisPoolModule (real redis-server)', () => {
  let redis: RedisTestServer;
  let moduleRef: TestingModule;
  let pools: RedisPoolService;
  let consumer: new (...args: never[]) => {
    pooled: Redis;
    anchor: Redis;
    second: Redis;
    secondAnchor: Redis;
  };

  let anchorTokens: [string, string];

  beforeAll(async () => {
    anchorTokens = await injectRedisTokens();
    const [defaultToken, secondToken] = anchorTokens;
    @Injectable()
    class UsesBothDecorators {
      constructor(
        @InjectRedisPool() readonly pooled: Redis,
        @Inject(defaultToken) readonly anchor: Redis,
        @InjectRedisPool('second') readonly second: Redis,
        @Inject(secondToken) readonly secondAnchor: Redis,
      ) {}
    }
    consumer = UsesBothDecorators;
    redis = await startRedis();
    @Module({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ REDIS_URL: redis.url, REDIS_MAX_CONNECTIONS: '2' })],
        }),
        RedisPoolModule.forRootAsync(),
        RedisPoolModule.forRoot({
          name: 'second',
          url: `${redis.url}/3`,
          maxConnections: 1,
          acquireTimeoutMs: 150,
          leakDetectionThresholdMs: 100,
        }),
      ],
      providers: [consumer],
    })
    class AppModule {}
    moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await moduleRef.init();
    pools = moduleRef.get(RedisPoolService);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await redis?.stop();
  });

  it('reads env through ConfigService, keeps named pools apart and shares clients with @InjectRedis', async () => {
    expect(anchorTokens).toEqual([
      getIoRedisConnectionToken(),
      getIoRedisConnectionToken('second'),
    ]);
    const users = moduleRef.get(consumer);
    expect(users.pooled).toBe(users.anchor);
    expect(users.second).toBe(users.secondAnchor);
    expect(users.pooled).not.toBe(users.second);
    expect(moduleRef.get(getRedisPoolToken('default'))).toBe(users.pooled);
    expect(pools.getPoolStats('default').max).toBe(2);
    expect(pools.getPoolStats('second').max).toBe(1);

    await users.pooled.set('where', 'db0');
    await users.second.set('where', 'db3');
    expect(await users.pooled.get('where')).toBe('db0');
    expect(await users.second.get('where')).toBe('db3');
  });

  it('reports stats with main client state', () => {
    const stats = pools.getPoolStats();
    expect(stats).toMatchObject({
      name: 'default',
      topology: 'standalone',
      max: 2,
      main: { status: 'ready', connected: true, reconnects: 0 },
    });
    expect(() => pools.getPoolStats('missing')).toThrow(/"missing" does not exist.*"default"/s);
  });

  it('BLPOP on a dedicated connection does not block the main client', async () => {
    const main = pools.getClient();
    const blocked = pools.withConnection('default', (conn) => conn.blpop('queue:e2e', 2));
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    await main.set('k', 'v');
    expect(await main.get('k')).toBe('v');
    expect(performance.now() - started).toBeLessThan(200);
    expect(pools.getPoolStats().inUse).toBe(1);
    await main.rpush('queue:e2e', 'job-1');
    await expect(blocked).resolves.toEqual(['queue:e2e', 'job-1']);
    expect(pools.getPoolStats().inUse).toBe(0);
  });

  it('isolates WATCH/MULTI on dedicated connections', async () => {
    const main = pools.getClient();
    await main.set('balance', '100');
    const result = await pools.withConnection('default', async (conn) => {
      await conn.watch('balance');
      const balance = Number(await conn.get('balance'));
      // Another writer changes the key between WATCH and EXEC: the transaction must abort.
      await main.set('balance', '50');
      return conn
        .multi()
        .set('balance', String(balance - 10))
        .exec();
    });
    expect(result).toBeNull();
    expect(await main.get('balance')).toBe('50');

    const committed = await pools.withConnection('default', async (conn) => {
      await conn.watch('balance');
      const balance = Number(await conn.get('balance'));
      return conn
        .multi()
        .set('balance', String(balance - 10))
        .exec();
    });
    expect(committed).toEqual([[null, 'OK']]);
    expect(await main.get('balance')).toBe('40');
  });

  it('releases on throw and fails an exhausted pool with an acquire timeout naming pool and limit', async () => {
    await expect(
      pools.withConnection('second', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(pools.getPoolStats('second').inUse).toBe(0);

    const held = await pools.acquire('second');
    const started = performance.now();
    const waiting = pools.acquire('second').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(pools.getPoolStats('second')).toMatchObject({ inUse: 1, pending: 1 });
    const err = await waiting;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err).toBeInstanceOf(PoolTimeoutError);
    const message = (err as Error).message;
    expect(message).toContain('"second"');
    expect(message).toContain('REDIS_MAX_CONNECTIONS=1');
    expect(message).toContain('150 ms');
    expect((err as PoolTimeoutError).limit).toBe('acquireTimeoutMs');
    await pools.release(held);
    await expect(pools.release(held)).rejects.toThrow(/not acquired from a Redis pool/);
  });

  it('detects a dedicated connection held past the leak threshold', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const before = pools.getPoolStats('second').leaksDetected;
      const quick = await pools.acquire('second');
      await pools.release(quick);
      expect(pools.getPoolStats('second').leaksDetected).toBe(before);
      const conn = await pools.acquire('second');
      await new Promise((r) => setTimeout(r, 180));
      await pools.release(conn);
      expect(pools.getPoolStats('second').leaksDetected).toBe(before + 1);
      const logged = warn.mock.calls.map((c) => String(c[0])).join('\n');
      expect(logged).toMatch(/"second": a dedicated connection has been held for \d+ ms/);
      expect(logged).toContain('redis-pool.module.e2e-spec');
    } finally {
      warn.mockRestore();
    }
  });

  it('exports metrics with db_system_name="redis" per pool', async () => {
    const main = pools.getClient();
    await main.set('a-string', 'x');
    await expect(main.lpush('a-string', 'y')).rejects.toThrow(/WRONGTYPE/);
    const registry = moduleRef.get<Registry>(POOL_METRICS_REGISTRY);
    const text = await registry.metrics();
    expect(text).toMatch(
      /db_client_connection_max\{db_client_connection_pool_name="default",db_system_name="redis"\} 2/,
    );
    expect(text).toMatch(
      /db_client_connection_max\{db_client_connection_pool_name="second",db_system_name="redis"\} 1/,
    );
    expect(text).toMatch(
      /db_client_connection_timeouts_total\{db_client_connection_pool_name="second",db_system_name="redis"\} 1/,
    );
    const leaks = pools.getPoolStats('second').leaksDetected;
    expect(leaks).toBeGreaterThan(0);
    expect(text).toContain(
      `pool_leak_detections_total{pool_name="second",pool_system="redis"} ${leaks}`,
    );
    expect(text).toMatch(
      /pool_errors_total\{pool_name="second",pool_system="redis",error_type="acquire_timeout"\} 1/,
    );
    expect(text).toMatch(
      /pool_errors_total\{pool_name="default",pool_system="redis",error_type="wrongtype"\} 1/,
    );
    expect(text).toMatch(
      /db_client_connection_count\{db_client_connection_pool_name="default",db_system_name="redis",db_client_connection_state="used"\} 1/,
    );
    expect(text).toMatch(
      /db_client_connection_wait_time_seconds_count\{db_client_connection_pool_name="default",db_system_name="redis"\} [1-9]/,
    );
  });

  it('counts a failed command once, and a script that ioredis reloads after NOSCRIPT not at all', async () => {
    const main = pools.getClient() as Redis & { echoTwice(key: string): Promise<string> };
    main.defineCommand('echoTwice', {
      numberOfKeys: 1,
      lua: "return redis.call('GET', KEYS[1]) .. redis.call('GET', KEYS[1])",
    });
    const registry = moduleRef.get<Registry>(POOL_METRICS_REGISTRY);
    const errors = async (type: string): Promise<number> =>
      (await registry.getSingleMetric('pool_errors_total')!.get()).values.find(
        (v) => v.labels['pool_name'] === 'default' && v.labels['error_type'] === type,
      )?.value ?? 0;
    await main.set('script-key', 'ab');
    expect(await main.echoTwice('script-key')).toBe('abab');
    await main.script('FLUSH');
    // The script is gone from the server: ioredis gets NOSCRIPT and sends it again, unseen.
    expect(await main.echoTwice('script-key')).toBe('abab');
    expect(await errors('noscript')).toBe(0);
    // A direct EVALSHA of an unknown script fails for the caller, and is counted once.
    await expect(main.evalsha('0'.repeat(40), 0)).rejects.toThrow(/NOSCRIPT/);
    expect(await errors('noscript')).toBe(1);
    // In a pipeline, the one failing command is counted once.
    const wrongtype = await errors('wrongtype');
    const pipelined = await main.pipeline().set('p', '1').lpush('p', 'x').get('p').exec();
    expect(pipelined?.[1]?.[0]).toBeInstanceOf(Error);
    expect(pipelined?.[2]?.[1]).toBe('1');
    expect(await errors('wrongtype')).toBe(wrongtype + 1);
  });

  it('health reports up with latency, INFO fields and pool figures', async () => {
    const health = moduleRef.get(RedisPoolHealthIndicator);
    const result = await health.isHealthy('redis', { info: true });
    expect(result['redis']).toMatchObject({ status: 'up', pool: 'default', clientStatus: 'ready' });
    const text = JSON.stringify(result);
    expect(text).toContain('connected_clients');
    expect(text).toContain('keyspace_hits');
    const missing = await health.isHealthy('nope', { name: 'nope' });
    expect(missing['nope']).toMatchObject({ status: 'down' });
  });

  it('makes an isGlobal pool injectable in modules that do not import it', async () => {
    @Injectable()
    class Consumer {
      constructor(@InjectRedisPool('global') readonly redis: Redis) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}
    const app = await Test.createTestingModule({
      imports: [
        RedisPoolModule.forRoot({ name: 'global', url: redis.url, isGlobal: true }),
        FeatureModule,
      ],
    }).compile();
    try {
      await app.init();
      expect(await app.get(Consumer).redis.ping()).toBe('PONG');
    } finally {
      await app.close();
    }
  });

  it('fails at startup with one error listing every invalid option', async () => {
    const err = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ REDIS_SOCKET_TIMEOUT: 'soon' })],
        }),
        RedisPoolModule.forRootAsync({
          name: 'broken',
          useFactory: () => ({
            url: 'http://not-redis',
            minConnections: 10,
            maxConnections: 2,
          }),
        }),
      ],
    })
      .compile()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ConfigValidationError);
    const message = (err as Error).message;
    expect(message).toContain('options.url');
    expect(message).toContain('REDIS_SOCKET_TIMEOUT');
    expect(message).toMatch(/minConnections/);
  });

  it('accepts commands sent before module init (from a constructor) without a second connect', async () => {
    @Injectable()
    class Eager {
      readonly early: Promise<unknown>;
      constructor(@InjectRedisPool('eager') redis: Redis) {
        this.early = redis.set('early', '1');
      }
    }
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const app = await Test.createTestingModule({
      imports: [RedisPoolModule.forRoot({ name: 'eager', url: redis.url, failFast: true })],
      providers: [Eager],
    }).compile();
    try {
      await app.init();
      await expect(app.get(Eager).early).resolves.toBe('OK');
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      await app.close();
    }
  });

  it('PINGs in the background every healthCheckIntervalMs', async () => {
    const admin = pools.getClient();
    const pings = async (): Promise<number> => {
      const stats = String(await admin.info('commandstats'));
      return Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    };
    const app = await Test.createTestingModule({
      imports: [
        RedisPoolModule.forRoot({ name: 'pinged', url: redis.url, healthCheckIntervalMs: 100 }),
      ],
    }).compile();
    try {
      await app.init();
      const before = await pings();
      await new Promise((r) => setTimeout(r, 550));
      expect((await pings()) - before).toBeGreaterThanOrEqual(3);
    } finally {
      await app.close();
    }
  });
});
