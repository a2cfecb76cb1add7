// The Redis pool's configuration alone (no driver, no Nest): `@nest-pools/redis/config`, which
// `nest-pools-config explain` loads through the "nest-pools" field of package.json.
export * from './redis-pool.config.js';
export {
  REDIS_CLUSTER_SCALE_READS,
  REDIS_POOL_FIELDS,
  type RedisClusterScaleReads,
  type RedisTopology,
} from './redis-pool.fields.js';
export { REDIS_POOL_PRESETS } from './redis-pool.presets.js';
