import { getConnectionToken } from '@nestjs/mongoose';

import { DEFAULT_MONGO_POOL_NAME } from './mongo-pool.constants.js';

/**
 * Injection token of the mongoose `Connection` of the pool `name`.
 *
 * @param name pool name given to `MongoPoolModule.forRoot*({ name })`
 * @default name 'default'
 * @returns `'MongoPool(<name>)'`
 */
export function getMongoPoolToken(name: string = DEFAULT_MONGO_POOL_NAME): string {
  return `MongoPool(${name})`;
}

/**
 * Injection token of the internal pool object (client, counters, health) of the pool `name`;
 * used by `MongoPoolService` and `MongoPoolHealthIndicator` to find any pool by name.
 *
 * @returns `'MongoPoolInstance(<name>)'`
 */
export function getMongoPoolInstanceToken(name: string = DEFAULT_MONGO_POOL_NAME): string {
  return `MongoPoolInstance(${name})`;
}

/**
 * The `@nestjs/mongoose` connection token the pool `name` is also registered under, so
 * `@InjectConnection()`, `@InjectModel()` and `MongooseModule.forFeature()` find it: the pool
 * `default` is mongoose's default connection, any other name is the mongoose connection of the
 * same name.
 */
export function getMongooseConnectionTokenFor(name: string = DEFAULT_MONGO_POOL_NAME): string {
  return getConnectionToken(name === DEFAULT_MONGO_POOL_NAME ? undefined : name);
}

/**
 * Module-local token of the resolved {@link MongoPoolConfig} of the pool `name`.
 *
 * @returns `'MongoPoolConfig(<name>)'`
 */
export function getMongoPoolConfigToken(name: string = DEFAULT_MONGO_POOL_NAME): string {
  return `MongoPoolConfig(${name})`;
}
