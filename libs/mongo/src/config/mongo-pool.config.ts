import {
  definePool,
  type EnvSource,
  type PoolConfigExplanation,
  type PoolConfigOf,
  type PoolConfigParseFlags,
  type PoolOptionsOf,
  type PoolVariableMeta,
} from '@nest-pools/core';

import { MONGO_POOL_FIELDS, WAIT_QUEUE_MULTIPLE_REASON } from './mongo-pool.fields.js';
import { MONGO_POOL_PRESETS } from './mongo-pool.presets.js';

/**
 * Resolved configuration of one MongoDB pool, derived from {@link MONGO_POOL_FIELDS}. Keys match
 * the driver's `MongoClientOptions` where the driver has them; the others drive nest-pools' own
 * behaviour. Every key, its env variable, unit, default and presets: docs/configuration.md.
 */
export type MongoPoolConfig = PoolConfigOf<typeof MONGO_POOL_FIELDS>;

/**
 * Explicit options of a MongoDB pool: any subset of {@link MongoPoolConfig}, in the config's
 * units. Other keys are accepted by the type so that they can be refused with an explanation
 * (`waitQueueMultiple`) or named as unknown.
 */
export type MongoPoolConfigInput = PoolOptionsOf<MongoPoolConfig>;

/** The MongoDB pool's configuration: fields, presets and rules bound to core's parse engine. */
export const MONGO_POOL_DEFINITION = definePool({
  kind: 'mongo',
  label: 'MongoDB',
  fields: MONGO_POOL_FIELDS,
  presets: MONGO_POOL_PRESETS,
  unsupported: [
    {
      option: 'waitQueueMultiple',
      env: 'MONGODB_WAIT_QUEUE_MULTIPLE',
      explanation: `not supported: ${WAIT_QUEUE_MULTIPLE_REASON}`,
    },
  ],
  check(ctx) {
    ctx.checkOrder('minPoolSize', 'maxPoolSize', 'maximum pool size');
    const url = ctx.values.url;
    if (ctx.isValid('url') && typeof url === 'string') {
      const query = url.split('?')[1] ?? '';
      const params = new URLSearchParams(query);
      if ([...params.keys()].some((k) => k.toLowerCase() === 'waitqueuemultiple')) {
        ctx.issue(
          'url',
          `a connection string without waitQueueMultiple (${WAIT_QUEUE_MULTIPLE_REASON})`,
        );
      }
    }
    ctx.requireExplicitInProduction('url', 'a mongodb:// or mongodb+srv:// connection string');
  },
});

/**
 * Every MongoDB pool variable: env name, option key, unit, default, presets and allowed values
 * (the source of the reference in docs/configuration.md).
 */
export const MONGO_POOL_ENV: readonly PoolVariableMeta[] = MONGO_POOL_DEFINITION.variables;

/**
 * Resolves a MongoDB pool config. Each key comes from the explicit option, else the env variable,
 * else the `APP_ENV` preset, else the library default.
 *
 * @throws ConfigValidationError listing every invalid variable (values masked)
 * @example
 * const config = parseMongoPoolConfig(process.env, { appName: 'codebot' });
 * new MongoClient(config.url, { maxPoolSize: config.maxPoolSize });
 */
export const parseMongoPoolConfig: (
  env: EnvSource,
  options?: MongoPoolConfigInput,
  flags?: PoolConfigParseFlags,
) => MongoPoolConfig = MONGO_POOL_DEFINITION.parse;

/**
 * The effective configuration of a MongoDB pool: every key's value (secrets masked), the source
 * that set it (option / env NAME as written / `APP_ENV` preset / default) and what is allowed.
 *
 * @example
 * console.log(formatPoolConfigExplanation([explainMongoPoolConfig(process.env)]));
 */
export const explainMongoPoolConfig: (
  env: EnvSource,
  options?: MongoPoolConfigInput,
  flags?: PoolConfigParseFlags,
) => PoolConfigExplanation = MONGO_POOL_DEFINITION.explain;
