// The MongoDB pool's configuration alone (no driver, no Nest): `@nest-pools/mongo/config`, which
// `nest-pools-config explain` loads through the "nest-pools" field of package.json.
export * from './mongo-pool.config.js';
export { MONGO_COMPRESSORS, MONGO_POOL_FIELDS, type MongoCompressor } from './mongo-pool.fields.js';
export { MONGO_POOL_PRESETS } from './mongo-pool.presets.js';
