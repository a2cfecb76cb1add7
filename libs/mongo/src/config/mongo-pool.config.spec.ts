import { captureConfigError as configErrorOf } from '@nest-pools/core';

import { MONGO_POOL_ENV, type MongoPoolConfig, parseMongoPoolConfig } from './index.js';

// env name, env value, config key, expected value (units converted)
const EVERY_VARIABLE: Array<[string, string, keyof MongoPoolConfig, unknown]> = [
  [
    'MONGODB_URL',
    'mongodb://app:pw@db1:27017,db2:27018/bot?replicaSet=rs0',
    'url',
    'mongodb://app:pw@db1:27017,db2:27018/bot?replicaSet=rs0',
  ],
  ['MONGODB_MAX_POOL_SIZE', '150', 'maxPoolSize', 150],
  ['MONGODB_MIN_POOL_SIZE', '7', 'minPoolSize', 7],
  ['MONGODB_MAX_CONNECTING', '4', 'maxConnecting', 4],
  ['MONGODB_WAIT_QUEUE_TIMEOUT_MS', '2500', 'waitQueueTimeoutMS', 2500],
  ['MONGODB_MAX_IDLE_TIME_MS', '60000', 'maxIdleTimeMS', 60_000],
  ['MONGODB_SERVER_SELECTION_TIMEOUT_MS', '4000', 'serverSelectionTimeoutMS', 4000],
  ['MONGODB_SOCKET_TIMEOUT_MS', '0', 'socketTimeoutMS', 0],
  ['MONGODB_CONNECT_TIMEOUT_MS', '8000', 'connectTimeoutMS', 8000],
  ['MONGODB_HEARTBEAT_FREQUENCY_MS', '500', 'heartbeatFrequencyMS', 500],
  ['MONGODB_APPNAME', ' codebot ', 'appName', 'codebot'],
  ['MONGODB_COMPRESSORS', 'zstd, ZLIB,zstd', 'compressors', ['zstd', 'zlib']],
  ['MONGODB_RETRY_WRITES', 'off', 'retryWrites', false],
  ['MONGODB_RETRY_READS', 'No', 'retryReads', false],
  ['MONGODB_LEAK_DETECTION_THRESHOLD_MS', '30000', 'leakDetectionThresholdMS', 30_000],
  ['MONGODB_LEAK_DETECTION_STACKS', 'YES', 'leakDetectionStacks', true],
  ['MONGODB_FAIL_FAST', '1', 'failFast', true],
  ['MONGODB_HEALTH_TIMEOUT_MS', '750', 'healthTimeoutMS', 750],
  ['MONGODB_SHUTDOWN_TIMEOUT_MS', '9000.0', 'shutdownTimeoutMS', 9000],
  ['MONGODB_WARM_UP', 'false', 'warmUp', false],
  ['MONGODB_BREAKER_ENABLED', 'off', 'breakerEnabled', false],
  ['MONGODB_BREAKER_FAILURES', '3', 'breakerFailures', 3],
  ['MONGODB_BREAKER_HALF_OPEN_MS', '2500', 'breakerHalfOpenMS', 2500],
  ['MONGODB_OPERATION_METRICS', 'true', 'operationMetrics', true],
  ['MONGODB_POOL_METRICS', 'false', 'poolMetrics', false],
];

describe('parseMongoPoolConfig', () => {
  it('has a test row for every variable of the schema', () => {
    expect(EVERY_VARIABLE.map(([env]) => env).sort()).toEqual(
      MONGO_POOL_ENV.map((v) => v.env).sort(),
    );
  });

  it.each(EVERY_VARIABLE)('reads %s=%j into %s', (env, value, key, expected) => {
    expect(parseMongoPoolConfig({ [env]: value })[key]).toEqual(expected);
  });

  it('uses library defaults and the development preset with an empty env', () => {
    expect(parseMongoPoolConfig({})).toEqual({
      name: 'default',
      url: 'mongodb://localhost:27017',
      maxPoolSize: 20,
      minPoolSize: 2,
      maxConnecting: 2,
      waitQueueTimeoutMS: 5000,
      maxIdleTimeMS: 30_000,
      serverSelectionTimeoutMS: 3000,
      socketTimeoutMS: 20_000,
      connectTimeoutMS: 10_000,
      heartbeatFrequencyMS: 10_000,
      compressors: [],
      retryWrites: true,
      retryReads: true,
      leakDetectionThresholdMS: 0,
      leakDetectionStacks: false,
      failFast: false,
      healthTimeoutMS: 1000,
      shutdownTimeoutMS: 5000,
      warmUp: true,
      breakerEnabled: true,
      breakerFailures: 5,
      breakerHalfOpenMS: 1000,
      operationMetrics: false,
      poolMetrics: true,
    } satisfies MongoPoolConfig);
  });

  it.each([
    [{}, 20, 2],
    [{ APP_ENV: 'development' }, 20, 2],
    [{ APP_ENV: 'staging' }, 50, 5],
    [{ APP_ENV: 'production' }, 100, 10],
    [{ APP_ENV: 'PRODUCTION' }, 100, 10],
    [{ NODE_ENV: 'production' }, 100, 10],
    [{ NODE_ENV: 'staging' }, 50, 5],
    [{ NODE_ENV: 'test' }, 20, 2],
    [{ APP_ENV: 'staging', NODE_ENV: 'production' }, 50, 5],
  ])('applies the preset of %j', (env, max, min) => {
    const config = parseMongoPoolConfig(env);
    expect([config.maxPoolSize, config.minPoolSize]).toEqual([max, min]);
  });

  it.each(['development', 'staging', 'production'])(
    'ranks option > env > preset > default in %s',
    (appEnv) => {
      const env = { APP_ENV: appEnv, MONGODB_MAX_POOL_SIZE: '60', MONGODB_MAX_CONNECTING: '3' };
      const config = parseMongoPoolConfig(env, { maxPoolSize: 70 });
      expect(config.maxPoolSize).toBe(70); // option over env
      expect(config.maxConnecting).toBe(3); // env over default
      expect(parseMongoPoolConfig(env).maxPoolSize).toBe(60); // env over preset
      expect(parseMongoPoolConfig({ APP_ENV: appEnv }).waitQueueTimeoutMS).toBe(5000); // default
    },
  );

  it('accepts every key as an explicit option, numeric and boolean strings included', () => {
    const config = parseMongoPoolConfig({}, {
      name: 'audit',
      url: 'mongodb+srv://app:pw@cluster0.example.net/bot?tls=true',
      maxPoolSize: '30',
      minPoolSize: 0,
      retryWrites: 'false',
      compressors: ['snappy'],
      appName: 'audit',
    } as never);
    expect(config).toMatchObject({
      name: 'audit',
      url: 'mongodb+srv://app:pw@cluster0.example.net/bot?tls=true',
      maxPoolSize: 30,
      minPoolSize: 0,
      retryWrites: false,
      compressors: ['snappy'],
      appName: 'audit',
    });
  });

  it('lowers a preset minPoolSize to an explicit smaller maxPoolSize', () => {
    const config = parseMongoPoolConfig({ APP_ENV: 'production', MONGODB_MAX_POOL_SIZE: '4' });
    expect([config.maxPoolSize, config.minPoolSize]).toEqual([4, 4]);
  });

  it('refuses waitQueueMultiple as an option, env variable or URL parameter', () => {
    const err = configErrorOf(() =>
      parseMongoPoolConfig(
        {
          MONGODB_WAIT_QUEUE_MULTIPLE: '4',
          MONGODB_URL: 'mongodb://u:hunter2@db/x?waitQueueMultiple=4',
        },
        { waitQueueMultiple: 4 },
      ),
    );
    expect(err.issues.map((i) => i.variable).sort()).toEqual([
      'MONGODB_URL',
      'MONGODB_WAIT_QUEUE_MULTIPLE',
      'options.waitQueueMultiple',
    ]);
    for (const issue of err.issues) {
      expect(issue.allowed).toMatch(/removed from the MongoDB Node\.js driver/);
      expect(issue.allowed).toMatch(/maxPoolSize/);
      expect(issue.allowed).toMatch(/waitQueueTimeoutMS/);
    }
    expect(err.message).not.toContain('hunter2');
  });

  it('names unknown option keys and lists the allowed ones', () => {
    const err = configErrorOf(() => parseMongoPoolConfig({}, { maxPoolsize: 5 }));
    expect(err.issues).toEqual([
      {
        variable: 'options.maxPoolsize',
        given: '5',
        allowed: expect.stringMatching(
          /^no such option; the mongo pool accepts: name, url, maxPoolSize, /,
        ),
      },
    ]);
  });

  it('treats undefined and null option values as not given', () => {
    const config = parseMongoPoolConfig({ MONGODB_MAX_POOL_SIZE: '40' }, {
      maxPoolSize: undefined,
      appName: null,
      isGlobal: undefined,
    } as never);
    expect(config.maxPoolSize).toBe(40);
    expect(config.appName).toBeUndefined();
  });

  it('accepts mongodb+srv, tls and replica-set URLs unchanged', () => {
    for (const url of [
      'mongodb+srv://user:pass@cluster0.abcde.mongodb.net/db?retryWrites=true&w=majority',
      'mongodb://localhost',
      'mongodb://user:p%40ss@h1,h2:27018,[::1]:27019/db?tls=true&replicaSet=rs',
      'mongodb://%2Ftmp%2Fmongodb-27017.sock',
    ]) {
      expect(parseMongoPoolConfig({ MONGODB_URL: url }).url).toBe(url);
    }
  });

  it('requires MONGODB_URL in production only when asked to', () => {
    expect(parseMongoPoolConfig({ APP_ENV: 'production' }).url).toBe('mongodb://localhost:27017');
    const err = configErrorOf(() =>
      parseMongoPoolConfig({ APP_ENV: 'production' }, undefined, { requireUrlInProduction: true }),
    );
    expect(err.issues).toEqual([
      { variable: 'MONGODB_URL', given: '(not set)', allowed: expect.stringMatching(/production/) },
    ]);
    expect(
      parseMongoPoolConfig({ APP_ENV: 'production', MONGODB_URL: 'mongodb://db' }, undefined, {
        requireUrlInProduction: true,
      }).url,
    ).toBe('mongodb://db');
    expect(
      parseMongoPoolConfig({ APP_ENV: 'staging' }, undefined, { requireUrlInProduction: true }).url,
    ).toBe('mongodb://localhost:27017');
  });

  it('hands out a fresh copy of array defaults', () => {
    parseMongoPoolConfig({}).compressors.push('zlib');
    expect(parseMongoPoolConfig({}).compressors).toEqual([]);
  });

  it('treats empty env values as unset', () => {
    expect(parseMongoPoolConfig({ MONGODB_MAX_POOL_SIZE: '  ', MONGODB_URL: '' }).maxPoolSize).toBe(
      20,
    );
  });
});
