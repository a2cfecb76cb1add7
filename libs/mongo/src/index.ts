export * from './config/index.js';
export {
  COMPRESSOR_PACKAGES,
  toMongoDriverOptions,
  urlWantsTls,
} from './config/mongo-pool.driver-options.js';
export * from './errors/mongo-compressor-unavailable.error.js';
export * from './errors/mongo-pool-connect.error.js';
export * from './errors/mongo-tls-verification.error.js';
export * from './interfaces/mongo-pool-options.interface.js';
export { DEFAULT_MONGO_POOL_NAME, MONGO_DB_SYSTEM } from './mongo-pool.constants.js';
export * from './mongo-pool.decorators.js';
export * from './mongo-pool.health.js';
export type { MongoPoolInstance } from './mongo-pool.instance.js';
export type { MongoLeakReport } from './mongo-pool.leak-detector.js';
export type { MongoPoolCounts, MongoTopologySnapshot } from './mongo-pool.metrics.js';
export * from './mongo-pool.module.js';
export type { MongoPoolModuleExtras } from './mongo-pool.module-definition.js';
export * from './mongo-pool.service.js';
export { getMongooseConnectionTokenFor, getMongoPoolToken } from './mongo-pool.utils.js';
