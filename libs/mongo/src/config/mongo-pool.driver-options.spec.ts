import { MongoCompressorUnavailableError } from '../errors/mongo-compressor-unavailable.error.js';
import { MongoTlsVerificationError } from '../errors/mongo-tls-verification.error.js';
import { parseMongoPoolConfig } from './index.js';
import {
  type CompressorResolver,
  driverCompressorResolver,
  toMongoDriverOptions,
  urlWantsTls,
} from './mongo-pool.driver-options.js';

const installed = (...packages: string[]): CompressorResolver => ({
  hasBuiltInZstd: () => false,
  resolve: (name) => {
    if (packages.includes(name)) return `/node_modules/${name}/index.js`;
    throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
  },
});

const config = (env: Record<string, string>, options = {}) =>
  parseMongoPoolConfig({ APP_ENV: 'development', ...env }, options);

describe('toMongoDriverOptions', () => {
  it('maps every pool option of the config to the driver option of the same meaning', () => {
    const options = toMongoDriverOptions(
      config({
        MONGODB_URL: 'mongodb://db:27017/app',
        MONGODB_MAX_POOL_SIZE: '33',
        MONGODB_MIN_POOL_SIZE: '4',
        MONGODB_MAX_CONNECTING: '3',
        MONGODB_WAIT_QUEUE_TIMEOUT_MS: '1500',
        MONGODB_MAX_IDLE_TIME_MS: '45000',
        MONGODB_SERVER_SELECTION_TIMEOUT_MS: '2500',
        MONGODB_SOCKET_TIMEOUT_MS: '21000',
        MONGODB_CONNECT_TIMEOUT_MS: '8000',
        MONGODB_HEARTBEAT_FREQUENCY_MS: '7000',
        MONGODB_APPNAME: 'codebot',
        MONGODB_COMPRESSORS: 'zlib',
        MONGODB_RETRY_WRITES: 'false',
        MONGODB_RETRY_READS: 'false',
        MONGODB_OPERATION_METRICS: 'true',
      }),
      installed(),
    );
    expect(options).toEqual({
      maxPoolSize: 33,
      minPoolSize: 4,
      maxConnecting: 3,
      waitQueueTimeoutMS: 1500,
      maxIdleTimeMS: 45000,
      serverSelectionTimeoutMS: 2500,
      socketTimeoutMS: 21000,
      connectTimeoutMS: 8000,
      heartbeatFrequencyMS: 7000,
      appName: 'codebot',
      compressors: ['zlib'],
      retryWrites: false,
      retryReads: false,
      driverInfo: { name: 'nest-pools' },
      monitorCommands: false,
    });
  });

  it('leaves appName and TLS out when they are not asked for', () => {
    const options = toMongoDriverOptions(config({ MONGODB_URL: 'mongodb://db/app' }), installed());
    expect(options).not.toHaveProperty('appName');
    expect(options).not.toHaveProperty('tls');
    expect(options.compressors).toEqual([]);
  });

  it.each([
    ['mongodb+srv://user:pw@cluster0.example.net/app', true],
    ['mongodb://db:27017/app?tls=true', true],
    ['mongodb://db:27017/app?ssl=TRUE&w=majority', true],
    ['mongodb://db:27017/app?tls=false', false],
    ['mongodb://db-1:27017,db-2:27017/app?replicaSet=rs0', false],
  ])('turns TLS on with certificate verification for %s: %s', (url, tls) => {
    expect(urlWantsTls(url)).toBe(tls);
    const options = toMongoDriverOptions(config({ MONGODB_URL: url }), installed());
    if (tls) {
      expect(options).toMatchObject({
        tls: true,
        tlsAllowInvalidCertificates: false,
        tlsAllowInvalidHostnames: false,
      });
    } else {
      expect(options.tls).toBeUndefined();
    }
  });

  it.each([
    'mongodb://db/app?tls=true&tlsInsecure=true',
    'mongodb://db/app?tls=true&tlsAllowInvalidCertificates=true',
    'mongodb+srv://u:secret@c.example.net/app?tlsAllowInvalidHostnames=true',
  ])('refuses a URL that turns certificate verification off: %s', (url) => {
    const run = () => toMongoDriverOptions(config({ MONGODB_URL: url }), installed());
    expect(run).toThrow(MongoTlsVerificationError);
    expect(run).toThrow(/disables TLS certificate verification.*tlsCAFile/s);
    expect(run).not.toThrow(/secret/);
  });

  it('accepts zlib without any package and zstd/snappy only when their package resolves', () => {
    expect(() =>
      toMongoDriverOptions(config({ MONGODB_COMPRESSORS: 'zlib' }), installed()),
    ).not.toThrow();
    expect(
      toMongoDriverOptions(
        config({ MONGODB_COMPRESSORS: 'zstd,snappy,zlib' }),
        installed('@mongodb-js/zstd', 'snappy'),
      ).compressors,
    ).toEqual(['zstd', 'snappy', 'zlib']);
  });

  it.each([
    ['zstd', '@mongodb-js/zstd'],
    ['snappy', 'snappy'],
  ])('fails at startup naming the package when %s cannot be loaded', (compressor, pkg) => {
    let error: unknown;
    try {
      toMongoDriverOptions(config({ MONGODB_COMPRESSORS: `${compressor},zlib` }), installed());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MongoCompressorUnavailableError);
    const err = error as MongoCompressorUnavailableError;
    expect(err.packageName).toBe(pkg);
    expect(err.message).toContain(`npm install ${pkg}`);
    expect(err.poolName).toBe('default');
  });

  it('uses Node.js built-in zstd when present, without the package', () => {
    const builtIn: CompressorResolver = { ...installed(), hasBuiltInZstd: () => true };
    expect(
      toMongoDriverOptions(config({ MONGODB_COMPRESSORS: 'zstd' }), builtIn).compressors,
    ).toEqual(['zstd']);
  });

  it('resolves packages from the driver mongoose uses (snappy is not installed here)', () => {
    expect(() => driverCompressorResolver.resolve('bson')).not.toThrow();
    expect(() => driverCompressorResolver.resolve('snappy')).toThrow();
  });
});
