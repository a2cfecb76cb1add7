export * from './app-env.js';
export * from './collect-pool-config-issues.js';
export * from './config-issue.interface.js';
export {
  HTTP_POOL_ENV,
  HTTP_TRANSPORTS,
  type HttpPoolConfig,
  type HttpPoolConfigInput,
  type HttpTransport,
  parseHttpPoolConfig,
} from './http-pool.config.js';
export {
  MONGO_COMPRESSORS,
  MONGO_POOL_ENV,
  type MongoCompressor,
  type MongoPoolConfig,
  type MongoPoolConfigInput,
  parseMongoPoolConfig,
} from './mongo-pool.config.js';
export type {
  PoolConfigParseFlags,
  PoolValueOrigin,
  UnsupportedPoolOption,
} from './pool-config-context.js';
export * from './pool-env-names.js';
export type { HostPort, PoolKind, PoolVariableMeta, PoolVariableUnit } from './pool-field.js';
export { POOL_PRESETS, type PoolPreset } from './presets.js';
export {
  parseRedisPoolConfig,
  REDIS_CLUSTER_SCALE_READS,
  REDIS_POOL_ENV,
  type RedisClusterScaleReads,
  type RedisPoolConfig,
  type RedisPoolConfigInput,
  type RedisTopology,
} from './redis-pool.config.js';
