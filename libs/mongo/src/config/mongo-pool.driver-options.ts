import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';

import type { mongo } from 'mongoose';

import { MongoCompressorUnavailableError } from '../errors/mongo-compressor-unavailable.error.js';
import { MongoTlsVerificationError } from '../errors/mongo-tls-verification.error.js';
import { MONGO_DRIVER_INFO } from '../mongo-pool.constants.js';
import type { MongoPoolConfig } from './index.js';

/** Optional npm package the driver loads for each non-built-in compressor. */
export const COMPRESSOR_PACKAGES = { zstd: '@mongodb-js/zstd', snappy: 'snappy' } as const;

/** URL parameters that would switch certificate or host name verification off. */
const INSECURE_TLS_PARAMETERS = [
  'tlsInsecure',
  'tlsAllowInvalidCertificates',
  'tlsAllowInvalidHostnames',
  'sslAllowInvalidCertificates',
  'sslAllowInvalidHostnames',
] as const;

/** How compressor packages are found; replaceable in tests. */
export interface CompressorResolver {
  /** True when Node.js itself ships zstd (22.15+), which the driver then uses. */
  hasBuiltInZstd(): boolean;
  /** Resolves `packageName` the way the driver will (throws when it is not installed). */
  resolve(packageName: string): string;
}

/**
 * Resolves optional packages from the driver's own location, because that is where the driver's
 * `require()` looks: the driver is mongoose's dependency, not necessarily ours.
 */
export const driverCompressorResolver: CompressorResolver = {
  hasBuiltInZstd: () => typeof (zlib as { zstdCompress?: unknown }).zstdCompress === 'function',
  resolve(packageName) {
    const fromHere = createRequire(import.meta.url);
    const fromMongoose = createRequire(fromHere.resolve('mongoose'));
    const fromDriver = createRequire(fromMongoose.resolve('mongodb'));
    return fromDriver.resolve(packageName);
  },
};

/** Whether the URL asks for TLS: `mongodb+srv://` always does, otherwise `tls=true`/`ssl=true`. */
export function urlWantsTls(url: string): boolean {
  if (url.startsWith('mongodb+srv://')) return true;
  const params = queryParameters(url);
  return ['tls', 'ssl'].some((key) => params.get(key)?.toLowerCase() === 'true');
}

/**
 * Maps a validated pool configuration to `MongoClient` options. Explicit options win over the
 * same parameters in the URL (the driver gives the options object precedence).
 *
 * @throws MongoCompressorUnavailableError when a configured compressor's package is missing
 * @throws MongoTlsVerificationError when the URL turns certificate verification off
 */
export function toMongoDriverOptions(
  config: MongoPoolConfig,
  resolver: CompressorResolver = driverCompressorResolver,
): mongo.MongoClientOptions {
  assertCompressorsAvailable(config, resolver);
  const insecure = insecureTlsParameters(config.url);
  if (insecure.length > 0) {
    throw new MongoTlsVerificationError({
      poolName: config.name,
      url: config.url,
      parameters: insecure,
    });
  }
  const options: mongo.MongoClientOptions = {
    maxPoolSize: config.maxPoolSize,
    minPoolSize: config.minPoolSize,
    maxConnecting: config.maxConnecting,
    waitQueueTimeoutMS: config.waitQueueTimeoutMS,
    maxIdleTimeMS: config.maxIdleTimeMS,
    serverSelectionTimeoutMS: config.serverSelectionTimeoutMS,
    socketTimeoutMS: config.socketTimeoutMS,
    connectTimeoutMS: config.connectTimeoutMS,
    heartbeatFrequencyMS: config.heartbeatFrequencyMS,
    retryWrites: config.retryWrites,
    retryReads: config.retryReads,
    compressors: [...config.compressors],
    driverInfo: { ...MONGO_DRIVER_INFO },
    // Operation metrics time commands on the pool's connections, not through command events,
    // which cost an event and a second deserialisation of every reply (see MongoCommandMetrics).
    monitorCommands: false,
  };
  if (config.appName !== undefined) options.appName = config.appName;
  if (urlWantsTls(config.url)) {
    options.tls = true;
    options.tlsAllowInvalidCertificates = false;
    options.tlsAllowInvalidHostnames = false;
  }
  return options;
}

function assertCompressorsAvailable(config: MongoPoolConfig, resolver: CompressorResolver): void {
  for (const compressor of config.compressors) {
    if (compressor === 'zlib') continue;
    if (compressor === 'zstd' && resolver.hasBuiltInZstd()) continue;
    const packageName = COMPRESSOR_PACKAGES[compressor];
    try {
      resolver.resolve(packageName);
    } catch (cause) {
      throw new MongoCompressorUnavailableError({
        poolName: config.name,
        compressor,
        packageName,
        cause,
      });
    }
  }
}

function insecureTlsParameters(url: string): string[] {
  const params = queryParameters(url);
  const found: string[] = [];
  for (const [key, value] of params) {
    const known = INSECURE_TLS_PARAMETERS.find((p) => p.toLowerCase() === key.toLowerCase());
    if (known !== undefined && value.toLowerCase() === 'true') found.push(`${known}=true`);
  }
  return found;
}

/** Query parameters of a MongoDB URL (which `new URL()` cannot parse when it lists many hosts). */
function queryParameters(url: string): URLSearchParams {
  const query = url.indexOf('?');
  return new URLSearchParams(query === -1 ? '' : url.slice(query + 1));
}
