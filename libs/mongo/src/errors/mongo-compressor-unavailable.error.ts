import { PoolError } from '@nest-pools/core';

/**
 * Thrown at startup when `MONGODB_COMPRESSORS` names a compressor whose optional package is not
 * installed (`zstd` → `@mongodb-js/zstd` on Node.js < 22.15, `snappy` → `snappy`). The driver would
 * otherwise fail on the first compressed message, long after boot.
 */
export class MongoCompressorUnavailableError extends PoolError {
  /** The compressor that cannot be used. */
  readonly compressor: string;
  /** The npm package that provides it. */
  readonly packageName: string;

  constructor(opts: {
    poolName: string;
    compressor: string;
    packageName: string;
    cause?: unknown;
  }) {
    super(
      `MongoDB pool "${opts.poolName}": compressor "${opts.compressor}" needs the optional ` +
        `package "${opts.packageName}", which cannot be resolved. Install it ` +
        `(npm install ${opts.packageName}) or remove "${opts.compressor}" from ` +
        'MONGODB_COMPRESSORS (zlib is built in).',
      {
        poolName: opts.poolName,
        context: { compressor: opts.compressor, packageName: opts.packageName },
        cause: opts.cause,
      },
    );
    this.compressor = opts.compressor;
    this.packageName = opts.packageName;
  }
}
