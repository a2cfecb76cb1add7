import { fileURLToPath } from 'node:url';

import { captureConfigError as configErrorOf } from '@nest-pools/core';

import { parseRedisPoolConfig, REDIS_POOL_ENV, type RedisPoolConfig } from './index.js';

/** Any readable file stands in for a CA file: the config checks only that it can be read. */
const A_READABLE_FILE = fileURLToPath(import.meta.url);

// env name, env value, config key, expected value (seconds → milliseconds where the env is seconds)
const EVERY_VARIABLE: Array<[string, string, keyof RedisPoolConfig, unknown]> = [
  [
    'REDIS_URL',
    'rediss://default:pw@cache.internal:6380/2',
    'url',
    'rediss://default:pw@cache.internal:6380/2',
  ],
  ['REDIS_MAX_CONNECTIONS', '64', 'maxConnections', 64],
  ['REDIS_MIN_CONNECTIONS', '2', 'minConnections', 2],
  ['REDIS_CONNECT_TIMEOUT', '2.0', 'connectTimeoutMs', 2000],
  ['REDIS_SOCKET_TIMEOUT', '0.25', 'commandTimeoutMs', 250],
  ['REDIS_KEEPALIVE', '10', 'keepAliveMs', 10_000],
  ['REDIS_HEALTH_CHECK_INTERVAL', '30', 'healthCheckIntervalMs', 30_000],
  ['REDIS_MAX_RETRIES_PER_REQUEST', '0', 'maxRetriesPerRequest', 0],
  ['REDIS_RESEND_UNFULFILLED', 'off', 'resendUnfulfilled', false],
  ['REDIS_OFFLINE_QUEUE', 'FALSE', 'enableOfflineQueue', false],
  ['REDIS_OFFLINE_QUEUE_MAX', '50', 'offlineQueueMax', 50],
  ['REDIS_AUTO_PIPELINING', 'off', 'autoPipelining', false],
  ['REDIS_RETRY_BASE_DELAY_MS', '50', 'retryBaseDelayMs', 50],
  ['REDIS_RETRY_MAX_DELAY_MS', '2000', 'retryMaxDelayMs', 2000],
  ['REDIS_ACQUIRE_TIMEOUT_MS', '1500', 'acquireTimeoutMs', 1500],
  ['REDIS_IDLE_TIMEOUT_MS', '0', 'idleTimeoutMs', 0],
  ['REDIS_LEAK_DETECTION_THRESHOLD_MS', '10000', 'leakDetectionThresholdMs', 10_000],
  ['REDIS_HEALTH_TIMEOUT_MS', '300', 'healthTimeoutMs', 300],
  ['REDIS_SHUTDOWN_TIMEOUT_MS', '2000', 'shutdownTimeoutMs', 2000],
  ['REDIS_FAIL_FAST', 'on', 'failFast', true],
  ['REDIS_BREAKER_ENABLED', 'off', 'breakerEnabled', false],
  ['REDIS_OPERATION_METRICS', 'true', 'operationMetrics', true],
  ['REDIS_POOL_METRICS', 'false', 'poolMetrics', false],
  ['REDIS_BREAKER_FAILURES', '3', 'breakerFailures', 3],
  ['REDIS_BREAKER_HALF_OPEN_MS', '2500', 'breakerHalfOpenMs', 2500],
  [
    'REDIS_SENTINELS',
    's1:26379, [::1]:26380',
    'sentinels',
    [
      { host: 's1', port: 26379 },
      { host: '::1', port: 26380 },
    ],
  ],
  ['REDIS_SENTINEL_NAME', 'mymaster', 'sentinelName', 'mymaster'],
  ['REDIS_SENTINEL_PASSWORD', 'sentinel-pw', 'sentinelPassword', 'sentinel-pw'],
  [
    'REDIS_CLUSTER_NODES',
    'n1:7000,n2:7001',
    'clusterNodes',
    [
      { host: 'n1', port: 7000 },
      { host: 'n2', port: 7001 },
    ],
  ],
  ['REDIS_CLUSTER_SCALE_READS', 'Slave', 'clusterScaleReads', 'slave'],
  ['REDIS_TLS_CA_FILE', ` ${A_READABLE_FILE} `, 'tlsCaFile', A_READABLE_FILE],
];

// Variables that only make sense together with another one.
const COMPANIONS: Record<string, Record<string, string>> = {
  REDIS_SENTINELS: { REDIS_SENTINEL_NAME: 'mymaster' },
  REDIS_TLS_CA_FILE: { REDIS_URL: 'rediss://cache.internal:6380' },
};

describe('parseRedisPoolConfig', () => {
  it('has a test row for every variable of the schema', () => {
    expect(EVERY_VARIABLE.map(([env]) => env).sort()).toEqual(
      REDIS_POOL_ENV.map((v) => v.env).sort(),
    );
  });

  it.each(EVERY_VARIABLE)('reads %s=%j into %s', (env, value, key, expected) => {
    expect(parseRedisPoolConfig({ ...COMPANIONS[env], [env]: value })[key]).toEqual(expected);
  });

  it('uses library defaults and the development preset with an empty env', () => {
    expect(parseRedisPoolConfig({})).toEqual({
      name: 'default',
      url: 'redis://localhost:6379',
      maxConnections: 20,
      minConnections: 0,
      connectTimeoutMs: 2000,
      commandTimeoutMs: 2000,
      keepAliveMs: 30_000,
      healthCheckIntervalMs: 30_000,
      maxRetriesPerRequest: 3,
      resendUnfulfilled: true,
      enableOfflineQueue: true,
      offlineQueueMax: 1000,
      autoPipelining: false,
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 5000,
      acquireTimeoutMs: 5000,
      idleTimeoutMs: 30_000,
      leakDetectionThresholdMs: 0,
      healthTimeoutMs: 1000,
      shutdownTimeoutMs: 5000,
      failFast: false,
      clusterScaleReads: 'master',
      topology: 'standalone',
      breakerEnabled: true,
      breakerFailures: 5,
      breakerHalfOpenMs: 1000,
      operationMetrics: false,
      poolMetrics: true,
    } satisfies RedisPoolConfig);
  });

  it.each([
    [{}, 20],
    [{ APP_ENV: 'staging' }, 50],
    [{ APP_ENV: 'production' }, 100],
    [{ NODE_ENV: 'production' }, 100],
    [{ NODE_ENV: 'development' }, 20],
  ])('applies the preset of %j', (env, max) => {
    expect(parseRedisPoolConfig(env).maxConnections).toBe(max);
  });

  it.each(['development', 'staging', 'production'])(
    'ranks option > env > preset > default in %s',
    (appEnv) => {
      const env = { APP_ENV: appEnv, REDIS_MAX_CONNECTIONS: '33', REDIS_CONNECT_TIMEOUT: '1.5' };
      expect(parseRedisPoolConfig(env, { maxConnections: 44 }).maxConnections).toBe(44);
      expect(parseRedisPoolConfig(env).maxConnections).toBe(33);
      expect(parseRedisPoolConfig(env).connectTimeoutMs).toBe(1500);
      expect(parseRedisPoolConfig({ APP_ENV: appEnv }).connectTimeoutMs).toBe(2000);
    },
  );

  it('takes options in milliseconds, not seconds', () => {
    expect(parseRedisPoolConfig({}, { connectTimeoutMs: 750 }).connectTimeoutMs).toBe(750);
  });

  it('derives the topology', () => {
    expect(parseRedisPoolConfig({ REDIS_CLUSTER_NODES: 'n1:7000' }).topology).toBe('cluster');
    expect(
      parseRedisPoolConfig({}, { sentinels: [{ host: 's', port: 26379 }], sentinelName: 'm' })
        .topology,
    ).toBe('sentinel');
    expect(parseRedisPoolConfig({}, { topology: 'standalone' }).topology).toBe('standalone');
    const err = configErrorOf(() => parseRedisPoolConfig({}, { topology: 'cluster' }));
    expect(err.issues[0]?.variable).toBe('options.topology');
  });

  it('refuses sentinels together with cluster nodes, and sentinels without a name', () => {
    const err = configErrorOf(() =>
      parseRedisPoolConfig({ REDIS_SENTINELS: 's1:26379', REDIS_CLUSTER_NODES: 'n1:7000' }),
    );
    expect(err.issues.map((i) => i.variable)).toEqual(['REDIS_SENTINELS', 'REDIS_SENTINEL_NAME']);
    expect(err.issues[0]?.allowed).toContain('REDIS_CLUSTER_NODES');
    const viaOptions = configErrorOf(() =>
      parseRedisPoolConfig({}, { sentinels: [{ host: 's', port: 1 }] }),
    );
    expect(viaOptions.issues.map((i) => i.variable)).toEqual(['options.sentinelName']);
  });

  it('requires REDIS_URL in production for a standalone server only when asked to', () => {
    const flags = { requireUrlInProduction: true };
    expect(parseRedisPoolConfig({ APP_ENV: 'production' }).url).toBe('redis://localhost:6379');
    expect(
      configErrorOf(() => parseRedisPoolConfig({ APP_ENV: 'production' }, {}, flags)).issues,
    ).toEqual([
      { variable: 'REDIS_URL', given: '(not set)', allowed: expect.stringMatching(/production/) },
    ]);
    expect(
      parseRedisPoolConfig({ APP_ENV: 'production', REDIS_CLUSTER_NODES: 'n1:7000' }, {}, flags)
        .topology,
    ).toBe('cluster');
  });

  it('lowers default minimums below explicit maximums instead of failing', () => {
    const config = parseRedisPoolConfig({ REDIS_RETRY_MAX_DELAY_MS: '50' });
    expect([config.retryBaseDelayMs, config.retryMaxDelayMs]).toEqual([50, 50]);
  });
});

describe('REDIS_TLS_CA_FILE', () => {
  it('must name a readable file, and comes only with a rediss:// URL', () => {
    const missing = configErrorOf(() =>
      parseRedisPoolConfig({
        REDIS_URL: 'rediss://h:6380',
        REDIS_TLS_CA_FILE: '/nonexistent/ca.pem',
      }),
    );
    expect(missing.issues).toEqual([
      expect.objectContaining({
        variable: 'REDIS_TLS_CA_FILE',
        given: '"/nonexistent/ca.pem"',
        allowed: 'the path of a readable PEM file',
      }),
    ]);
    const plain = configErrorOf(() =>
      parseRedisPoolConfig({ REDIS_URL: 'redis://h:6379', REDIS_TLS_CA_FILE: A_READABLE_FILE }),
    );
    expect(plain.issues).toEqual([expect.objectContaining({ variable: 'REDIS_TLS_CA_FILE' })]);
    expect(plain.message).toMatch(/only with a rediss:\/\/ URL \(REDIS_URL is redis:\/\//);
  });
});
