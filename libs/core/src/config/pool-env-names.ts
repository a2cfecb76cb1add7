import type { EnvSource } from './app-env.js';
import type { PoolDefinition } from './pool-definition.js';

/** What {@link poolEnvFromConfig} needs of `@nestjs/config`'s `ConfigService`. */
export interface PoolConfigReader {
  get(name: string): unknown;
}

/**
 * The variables of one pool kind ({@link PoolDefinition.envNames}) as `ConfigService` sees them —
 * validated configuration, `load`ed values, `.env` files and `process.env` alike — as an
 * `EnvSource` for the parser. Numbers, booleans and bigints from loaded configuration become
 * text; any other value is given as JSON, so that an error can show it.
 *
 * @example
 * const config = REDIS_POOL_DEFINITION.parse(poolEnvFromConfig(REDIS_POOL_DEFINITION, configService));
 */
export function poolEnvFromConfig(
  definition: Pick<PoolDefinition, 'envNames'>,
  config: PoolConfigReader,
): EnvSource {
  const env: Record<string, string | undefined> = {};
  for (const name of definition.envNames) {
    const value = config.get(name);
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') env[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
      env[name] = String(value);
    } else env[name] = JSON.stringify(value);
  }
  return env;
}
