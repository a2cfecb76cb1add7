// Cross-pool rules of the configuration engine, through the three libraries' public barrels:
// aliases, presets, aggregated validation, redaction, ConfigService reading.
import {
  captureConfigError as configErrorOf,
  collectPoolConfigIssues,
  type ConfigValidationError,
  type EnvSource,
  formatConfigIssue,
  poolEnvFromConfig,
  resolveAppEnv,
} from '@nest-pools/core';
import { HTTP_POOL_DEFINITION, parseHttpPoolConfig } from '@nest-pools/http';
import { MONGO_POOL_DEFINITION, parseMongoPoolConfig } from '@nest-pools/mongo';
import { parseRedisPoolConfig, REDIS_POOL_DEFINITION } from '@nest-pools/redis';

const DEFS = {
  mongo: MONGO_POOL_DEFINITION,
  redis: REDIS_POOL_DEFINITION,
  http: HTTP_POOL_DEFINITION,
} as const;
const defs = (...kinds: Array<keyof typeof DEFS>) => kinds.map((k) => DEFS[k]);
const poolEnvVariableNames = (kind: keyof typeof DEFS) => DEFS[kind].envNames;

const SECRETS = ['hunter2', 'sentinel-s3cret', 'tok-abcdef123456', 'shh-secret-value', 'p4ssw0rd'];

function expectNoSecret(err: ConfigValidationError): void {
  const shown = [
    err.message,
    JSON.stringify(err.issues),
    JSON.stringify(err.context),
    String(err.stack),
  ].join('\n');
  for (const secret of SECRETS) expect(shown).not.toContain(secret);
}

type Parse = (env: EnvSource, options?: Record<string, unknown>) => unknown;
const mongo: Parse = (env, options) => parseMongoPoolConfig(env, options);
const redis: Parse = (env, options) => parseRedisPoolConfig(env, options);
const http: Parse = (env, options) => parseHttpPoolConfig(env, options);

// Every bad input carries secrets nearby, so each case also proves masking.
const NOISE: EnvSource = {
  MONGODB_URL: 'mongodb://app:hunter2@db:27017/bot',
  REDIS_URL: 'redis://:hunter2@cache:6379/0',
  REDIS_SENTINEL_PASSWORD: 'sentinel-s3cret',
  TELEGRAM_BOT_TOKEN: 'tok-abcdef123456',
  WEBHOOK_SECRET: 'shh-secret-value',
};

// [description, parse, env, options, variable named, given shown]
const BAD_INPUTS: Array<
  [string, Parse, EnvSource, Record<string, unknown> | undefined, string, string]
> = [
  [
    'seconds beyond the timer limit',
    redis,
    { REDIS_KEEPALIVE: '3000000' },
    undefined,
    'REDIS_KEEPALIVE',
    '"3000000"',
  ],
  [
    'milliseconds beyond the timer limit',
    redis,
    {},
    { acquireTimeoutMs: 2 ** 31 },
    'options.acquireTimeoutMs',
    '2147483648',
  ],

  [
    'secret too long',
    redis,
    {
      REDIS_SENTINELS: 's1:26379',
      REDIS_SENTINEL_NAME: 'm',
      REDIS_SENTINEL_PASSWORD: `${'x'.repeat(1100)}sentinel-s3cret`,
    },
    undefined,
    'REDIS_SENTINEL_PASSWORD',
    '"***"',
  ],
  [
    'URL with a token in its query',
    http,
    { HTTP_BASE_URL: 'ftp://files.example/x?access_token=tok-abcdef123456' },
    undefined,
    'HTTP_BASE_URL',
    '"ftp://files.example/x?access_token=***"',
  ],
  [
    'unknown secret-named option',
    http,
    {},
    { apiToken: 'tok-abcdef123456' },
    'options.apiToken',
    '"***"',
  ],
  [
    'URL missing its host after the password',
    mongo,
    { MONGODB_URL: 'mongodb://app:hunter2' },
    undefined,
    'MONGODB_URL',
    '"mongodb://app:***"',
  ],

  [
    'non-number pool size',
    mongo,
    { MONGODB_MAX_POOL_SIZE: 'lots' },
    undefined,
    'MONGODB_MAX_POOL_SIZE',
    '"lots"',
  ],
  [
    'zero pool size',
    mongo,
    { MONGODB_MAX_POOL_SIZE: '0' },
    undefined,
    'MONGODB_MAX_POOL_SIZE',
    '"0"',
  ],
  [
    'fractional pool size',
    mongo,
    { MONGODB_MAX_POOL_SIZE: '2.5' },
    undefined,
    'MONGODB_MAX_POOL_SIZE',
    '"2.5"',
  ],
  [
    'hex number',
    mongo,
    { MONGODB_MAX_CONNECTING: '0x10' },
    undefined,
    'MONGODB_MAX_CONNECTING',
    '"0x10"',
  ],
  [
    'negative min pool',
    mongo,
    { MONGODB_MIN_POOL_SIZE: '-1' },
    undefined,
    'MONGODB_MIN_POOL_SIZE',
    '"-1"',
  ],
  [
    'min > max pool',
    mongo,
    { MONGODB_MIN_POOL_SIZE: '50', MONGODB_MAX_POOL_SIZE: '10' },
    undefined,
    'MONGODB_MIN_POOL_SIZE',
    '"50"',
  ],
  [
    'negative wait timeout',
    mongo,
    { MONGODB_WAIT_QUEUE_TIMEOUT_MS: '-5' },
    undefined,
    'MONGODB_WAIT_QUEUE_TIMEOUT_MS',
    '"-5"',
  ],
  [
    'zero connect timeout',
    mongo,
    { MONGODB_CONNECT_TIMEOUT_MS: '0' },
    undefined,
    'MONGODB_CONNECT_TIMEOUT_MS',
    '"0"',
  ],
  [
    'heartbeat below driver minimum',
    mongo,
    { MONGODB_HEARTBEAT_FREQUENCY_MS: '100' },
    undefined,
    'MONGODB_HEARTBEAT_FREQUENCY_MS',
    '"100"',
  ],
  [
    'unknown compressor',
    mongo,
    { MONGODB_COMPRESSORS: 'zlib,lz4' },
    undefined,
    'MONGODB_COMPRESSORS',
    '"zlib,lz4"',
  ],
  [
    'malformed boolean',
    mongo,
    { MONGODB_RETRY_WRITES: 'maybe' },
    undefined,
    'MONGODB_RETRY_WRITES',
    '"maybe"',
  ],
  [
    'wrong URL scheme',
    mongo,
    { MONGODB_URL: 'postgres://app:hunter2@db/x' },
    undefined,
    'MONGODB_URL',
    '"postgres://app:***@db/x"',
  ],
  [
    'srv URL with a port',
    mongo,
    { MONGODB_URL: 'mongodb+srv://app:hunter2@c.example.net:27017/x' },
    undefined,
    'MONGODB_URL',
    '"mongodb+srv://app:***@c.example.net:27017/x"',
  ],
  [
    'URL port out of range',
    mongo,
    { MONGODB_URL: 'mongodb://app:hunter2@db:70000/x' },
    undefined,
    'MONGODB_URL',
    '"mongodb://app:***@db:70000/x"',
  ],
  [
    'waitQueueMultiple env',
    mongo,
    { MONGODB_WAIT_QUEUE_MULTIPLE: '2' },
    undefined,
    'MONGODB_WAIT_QUEUE_MULTIPLE',
    '"2"',
  ],
  [
    'waitQueueMultiple option',
    mongo,
    {},
    { waitQueueMultiple: 2 },
    'options.waitQueueMultiple',
    '2',
  ],
  [
    'waitQueueMultiple in URL',
    mongo,
    { MONGODB_URL: 'mongodb://app:hunter2@db/x?waitQueueMultiple=3' },
    undefined,
    'MONGODB_URL',
    '"mongodb://app:***@db/x?waitQueueMultiple=3"',
  ],
  ['unknown option key', mongo, {}, { poolSize: 10 }, 'options.poolSize', '10'],
  [
    'option of the wrong type',
    mongo,
    {},
    { retryReads: 'sometimes' },
    'options.retryReads',
    '"sometimes"',
  ],
  ['unknown APP_ENV', mongo, { APP_ENV: 'prod' }, undefined, 'APP_ENV', '"prod"'],
  ['bad pool name', mongo, {}, { name: 'has space' }, 'options.name', '"has space"'],
  [
    'redis URL scheme',
    redis,
    { REDIS_URL: 'http://:hunter2@cache:6379' },
    undefined,
    'REDIS_URL',
    '"http://:***@cache:6379"',
  ],
  [
    'redis URL db not a number',
    redis,
    { REDIS_URL: 'redis://:hunter2@cache:6379/zero' },
    undefined,
    'REDIS_URL',
    '"redis://:***@cache:6379/zero"',
  ],
  [
    'redis min > max',
    redis,
    { REDIS_MIN_CONNECTIONS: '30', REDIS_MAX_CONNECTIONS: '10' },
    undefined,
    'REDIS_MIN_CONNECTIONS',
    '"30"',
  ],
  [
    'redis retry base > max',
    redis,
    { REDIS_RETRY_BASE_DELAY_MS: '9000', REDIS_RETRY_MAX_DELAY_MS: '1000' },
    undefined,
    'REDIS_RETRY_BASE_DELAY_MS',
    '"9000"',
  ],
  [
    'redis timeout not a number',
    redis,
    { REDIS_CONNECT_TIMEOUT: '2s' },
    undefined,
    'REDIS_CONNECT_TIMEOUT',
    '"2s"',
  ],
  [
    'redis negative seconds',
    redis,
    { REDIS_SOCKET_TIMEOUT: '-2.0' },
    undefined,
    'REDIS_SOCKET_TIMEOUT',
    '"-2.0"',
  ],
  [
    'redis zero seconds',
    redis,
    { REDIS_CONNECT_TIMEOUT: '0.0' },
    undefined,
    'REDIS_CONNECT_TIMEOUT',
    '"0.0"',
  ],
  [
    'redis malformed boolean',
    redis,
    { REDIS_AUTO_PIPELINING: 'enabled' },
    undefined,
    'REDIS_AUTO_PIPELINING',
    '"enabled"',
  ],
  [
    'redis sentinel list',
    redis,
    { REDIS_SENTINELS: 's1,s2:26379', REDIS_SENTINEL_NAME: 'm' },
    undefined,
    'REDIS_SENTINELS',
    '"s1,s2:26379"',
  ],
  [
    'redis sentinels without a name',
    redis,
    { REDIS_SENTINELS: 's1:26379' },
    undefined,
    'REDIS_SENTINEL_NAME',
    '(not set)',
  ],
  [
    'redis sentinel and cluster',
    redis,
    { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'n1:7000' },
    undefined,
    'REDIS_SENTINELS',
    '"s1:26379"',
  ],
  [
    'redis scale reads',
    redis,
    { REDIS_CLUSTER_SCALE_READS: 'replicas' },
    undefined,
    'REDIS_CLUSTER_SCALE_READS',
    '"replicas"',
  ],
  [
    'redis cluster port',
    redis,
    { REDIS_CLUSTER_NODES: 'n1:0' },
    undefined,
    'REDIS_CLUSTER_NODES',
    '"n1:0"',
  ],
  [
    'redis empty sentinel password option',
    redis,
    { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm' },
    { sentinelPassword: '' },
    'options.sentinelPassword',
    '"***"',
  ],
  [
    'http limit not a number',
    http,
    { HTTP_POOL_LIMIT: 'ten' },
    undefined,
    'HTTP_POOL_LIMIT',
    '"ten"',
  ],
  [
    'http per-host > total',
    http,
    { HTTP_POOL_LIMIT: '10', HTTP_LIMIT_PER_HOST: '20' },
    undefined,
    'HTTP_LIMIT_PER_HOST',
    '"20"',
  ],
  [
    'http per-host alias > total',
    http,
    { AIOHTTP_POOL_LIMIT: '10', AIOHTTP_LIMIT_PER_HOST: '25' },
    undefined,
    'AIOHTTP_LIMIT_PER_HOST',
    '"25"',
  ],
  [
    'http alias timeout negative',
    http,
    { REQUESTS_TIMEOUT: '-8' },
    undefined,
    'REQUESTS_TIMEOUT',
    '"-8"',
  ],
  [
    'http zero total timeout',
    http,
    { AIOHTTP_TIMEOUT_TOTAL: '0' },
    undefined,
    'AIOHTTP_TIMEOUT_TOTAL',
    '"0"',
  ],
  [
    'http retries too many',
    http,
    { REQUESTS_RETRIES: '100' },
    undefined,
    'REQUESTS_RETRIES',
    '"100"',
  ],
  [
    'http base URL scheme',
    http,
    { HTTP_BASE_URL: 'ftp://user:hunter2@files' },
    undefined,
    'HTTP_BASE_URL',
    '"ftp://user:***@files"',
  ],
  [
    'http base URL not a URL',
    http,
    { HTTP_BASE_URL: 'api.github.com' },
    undefined,
    'HTTP_BASE_URL',
    '"api.github.com"',
  ],
  ['http transport', http, { HTTP_TRANSPORT: 'fetch' }, undefined, 'HTTP_TRANSPORT', '"fetch"'],
  [
    'http boolean',
    http,
    { HTTP_RETRY_NON_IDEMPOTENT: 'y' },
    undefined,
    'HTTP_RETRY_NON_IDEMPOTENT',
    '"y"',
  ],
  [
    'http headers option',
    http,
    {},
    { headers: { 'bad header': 'x', Authorization: 'Bearer tok-abcdef123456' } },
    'options.headers',
    '{"bad header":"x","Authorization":"***"}',
  ],
  [
    'http per-host option > total option',
    http,
    {},
    { poolLimit: 5, limitPerHost: 6 },
    'options.limitPerHost',
    '6',
  ],
  [
    'http timeout option in seconds by mistake',
    http,
    {},
    { timeoutTotalMs: 1.5 },
    'options.timeoutTotalMs',
    '1.5',
  ],
];

describe('configuration validation', () => {
  it('covers at least 20 bad inputs', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(20);
  });

  it.each(BAD_INPUTS)(
    'rejects %s, naming the variable, without secrets',
    (_what, parse, env, options, variable, given) => {
      const err = configErrorOf(() => parse({ ...NOISE, ...env }, options));
      const issue = err.issues.find((i) => i.variable === variable);
      expect(issue).toBeDefined();
      expect(issue?.given).toBe(given);
      expect(issue?.allowed.length).toBeGreaterThan(5);
      for (const each of err.issues) expect(err.message).toContain(formatConfigIssue(each));
      expectNoSecret(err);
    },
  );

  it('reports several bad variables in ONE error that lists all of them', () => {
    const err = configErrorOf(() =>
      parseMongoPoolConfig(
        {
          ...NOISE,
          APP_ENV: 'qa',
          MONGODB_URL: 'mysql://root:p4ssw0rd@db',
          MONGODB_MAX_POOL_SIZE: 'abc',
          MONGODB_MIN_POOL_SIZE: '-3',
          MONGODB_COMPRESSORS: 'brotli',
          MONGODB_RETRY_READS: 'perhaps',
          MONGODB_SOCKET_TIMEOUT_MS: '1e3',
        },
        { waitQueueMultiple: 5, name: 'audit' },
      ),
    );
    expect(err.poolName).toBe('audit');
    expect(err.issues.map((i) => i.variable)).toEqual([
      'APP_ENV',
      'options.waitQueueMultiple',
      'MONGODB_URL',
      'MONGODB_MAX_POOL_SIZE',
      'MONGODB_MIN_POOL_SIZE',
      'MONGODB_SOCKET_TIMEOUT_MS',
      'MONGODB_COMPRESSORS',
      'MONGODB_RETRY_READS',
    ]);
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('Invalid configuration of MongoDB pool "audit" (8 problems):');
    expect(lines).toHaveLength(10);
    expect(err.message).toContain('  - MONGODB_URL = "mysql://root:***@db"; allowed: a mongodb://');
    expectNoSecret(err);
  });

  it('never shows secret option values', () => {
    const err = configErrorOf(() =>
      parseRedisPoolConfig({}, {
        sentinelPassword: 42,
        url: 'redis://:hunter2@cache:notaport',
        headers: { token: 'x' },
      } as never),
    );
    expect(err.issues.map((i) => i.variable)).toEqual([
      'options.headers',
      'options.url',
      'options.sentinelPassword',
    ]);
    expect(err.issues[2]?.given).toBe('"***"');
    expectNoSecret(err);
  });

  it('parses the recommended .env template to the documented values', () => {
    const template: EnvSource = {
      MONGODB_URL: 'mongodb://user:pass@host:27017/db',
      MONGODB_MAX_POOL_SIZE: '100',
      MONGODB_MIN_POOL_SIZE: '5',
      MONGODB_WAIT_QUEUE_TIMEOUT_MS: '5000',
      MONGODB_MAX_IDLE_TIME_MS: '30000',
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: '3000',
      MONGODB_SOCKET_TIMEOUT_MS: '20000',
      MONGODB_CONNECT_TIMEOUT_MS: '10000',
      REDIS_URL: 'redis://localhost:6379/0',
      REDIS_MAX_CONNECTIONS: '100',
      REDIS_CONNECT_TIMEOUT: '2.0',
      REDIS_SOCKET_TIMEOUT: '2.0',
      AIOHTTP_POOL_LIMIT: '100',
      AIOHTTP_LIMIT_PER_HOST: '25',
      AIOHTTP_TIMEOUT_TOTAL: '15',
      REQUESTS_POOL_CONNECTIONS: '20',
      REQUESTS_POOL_MAXSIZE: '100',
      REQUESTS_TIMEOUT: '8',
      REQUESTS_RETRIES: '2',
      REQUESTS_RETRY_BACKOFF: '0.2',
    };
    expect(
      collectPoolConfigIssues(
        { ...template, APP_ENV: 'production' },
        defs('mongo', 'redis', 'http'),
        {
          requireUrlInProduction: true,
        },
      ),
    ).toEqual([]);
    expect(parseMongoPoolConfig(template)).toMatchObject({
      url: 'mongodb://user:pass@host:27017/db',
      maxPoolSize: 100,
      minPoolSize: 5,
      waitQueueTimeoutMS: 5000,
      maxIdleTimeMS: 30_000,
      serverSelectionTimeoutMS: 3000,
      socketTimeoutMS: 20_000,
      connectTimeoutMS: 10_000,
    });
    expect(parseRedisPoolConfig(template)).toMatchObject({
      url: 'redis://localhost:6379/0',
      maxConnections: 100,
      connectTimeoutMs: 2000,
      commandTimeoutMs: 2000,
      topology: 'standalone',
    });
    // AIOHTTP_* wins over REQUESTS_* where both set one key (per-host 25 not 20, total 15 s not 8 s).
    expect(parseHttpPoolConfig(template)).toMatchObject({
      poolLimit: 100,
      limitPerHost: 25,
      timeoutTotalMs: 15_000,
      retries: 2,
      retryBackoffMs: 200,
    });
    for (const appEnv of ['development', 'staging', 'production']) {
      const env = { ...template, APP_ENV: appEnv };
      expect(parseMongoPoolConfig(env).maxPoolSize).toBe(100);
      expect(parseHttpPoolConfig(env).limitPerHost).toBe(25);
    }
  });

  describe('collectPoolConfigIssues', () => {
    it('collects issues of several kinds and lists APP_ENV once', () => {
      const issues = collectPoolConfigIssues(
        {
          APP_ENV: 'live',
          MONGODB_MAX_POOL_SIZE: 'x',
          REDIS_MAX_CONNECTIONS: '0',
          HTTP_RETRIES: '-1',
        },
        defs('mongo', 'redis', 'http', 'mongo'),
      );
      expect(issues.map((i) => i.variable)).toEqual([
        'APP_ENV',
        'MONGODB_MAX_POOL_SIZE',
        'REDIS_MAX_CONNECTIONS',
        'HTTP_RETRIES',
      ]);
    });

    it('checks only the kinds asked for, and the production URL rule when asked', () => {
      const env = { APP_ENV: 'production', HTTP_POOL_LIMIT: 'x' };
      expect(collectPoolConfigIssues(env, defs('mongo', 'redis'))).toEqual([]);
      expect(
        collectPoolConfigIssues(env, defs('mongo', 'redis'), { requireUrlInProduction: true }).map(
          (i) => i.variable,
        ),
      ).toEqual(['MONGODB_URL', 'REDIS_URL']);
    });
  });

  describe('resolveAppEnv', () => {
    it.each([
      [{}, 'development'],
      [{ APP_ENV: 'staging' }, 'staging'],
      [{ APP_ENV: ' Production ' }, 'production'],
      [{ APP_ENV: '', NODE_ENV: 'production' }, 'production'],
      [{ NODE_ENV: 'test' }, 'development'],
      [{ APP_ENV: 'development', NODE_ENV: 'production' }, 'development'],
    ])('%j → %s', (env, expected) => {
      expect(resolveAppEnv(env)).toBe(expected);
    });

    it('throws for an unknown APP_ENV, naming it', () => {
      const err = configErrorOf(() => resolveAppEnv({ APP_ENV: 'prod' }));
      expect(err.issues).toEqual([
        {
          variable: 'APP_ENV',
          given: '"prod"',
          allowed: expect.stringContaining('development, staging, production'),
        },
      ]);
    });
  });
});

describe('poolEnvVariableNames', () => {
  it('lists presets, canonical names, aliases and refused names', () => {
    const mongoNames = poolEnvVariableNames('mongo');
    expect(mongoNames).toEqual(
      expect.arrayContaining(['APP_ENV', 'NODE_ENV', 'MONGODB_URL', 'MONGODB_WAIT_QUEUE_MULTIPLE']),
    );
    expect(poolEnvVariableNames('http')).toEqual(
      expect.arrayContaining(['AIOHTTP_POOL_LIMIT', 'REQUESTS_RETRY_BACKOFF']),
    );
    expect(poolEnvVariableNames('redis')).toHaveLength(2 + 31);
  });

  it('is enough to reproduce every issue from a filtered env', () => {
    const env = { MONGODB_WAIT_QUEUE_MULTIPLE: '2', MONGODB_MAX_POOL_SIZE: 'x', UNRELATED: 'y' };
    const filtered = Object.fromEntries(
      poolEnvVariableNames('mongo').map((n) => [n, env[n as keyof typeof env]]),
    );
    expect(collectPoolConfigIssues(filtered, defs('mongo'))).toEqual(
      collectPoolConfigIssues(env, defs('mongo')),
    );
  });
});

describe('poolEnvFromConfig', () => {
  const loaded: Record<string, unknown> = {
    APP_ENV: 'staging',
    MONGODB_MAX_POOL_SIZE: 80,
    MONGODB_RETRY_WRITES: false,
    MONGODB_WAIT_QUEUE_MULTIPLE: 2n,
    MONGODB_COMPRESSORS: ['zstd'],
    MONGODB_APPNAME: null,
    REDIS_URL: 'redis://cache:6379',
    UNRELATED: 'x',
  };
  const config = { get: (name: string): unknown => loaded[name] };

  it('reads the variables of one pool kind, loaded values as text', () => {
    expect(poolEnvFromConfig(DEFS.mongo, config)).toEqual({
      APP_ENV: 'staging',
      MONGODB_MAX_POOL_SIZE: '80',
      MONGODB_RETRY_WRITES: 'false',
      MONGODB_WAIT_QUEUE_MULTIPLE: '2',
      MONGODB_COMPRESSORS: '["zstd"]',
    });
    expect(poolEnvFromConfig(DEFS.redis, config)).toEqual({
      APP_ENV: 'staging',
      REDIS_URL: 'redis://cache:6379',
    });
  });

  it('lets a refused variable from configuration be reported like one from the environment', () => {
    expect(() => parseMongoPoolConfig(poolEnvFromConfig(DEFS.mongo, config))).toThrow(
      /MONGODB_WAIT_QUEUE_MULTIPLE/,
    );
  });
});
