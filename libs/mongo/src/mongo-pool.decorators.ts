import { Inject } from '@nestjs/common';

import { getMongoPoolToken } from './mongo-pool.utils.js';

/**
 * Injects the mongoose `Connection` of the pool `name`.
 *
 * @param name pool name given to `MongoPoolModule.forRoot*({ name })`
 * @default name 'default'
 * @example
 * ```ts
 * constructor(@InjectMongoPool('analytics') private readonly connection: Connection) {}
 * ```
 */
export const InjectMongoPool = (name?: string): PropertyDecorator & ParameterDecorator =>
  Inject(getMongoPoolToken(name));
