import {
  definePool,
  type EnvSource,
  type PoolConfigExplanation,
  type PoolConfigOf,
  type PoolConfigParseFlags,
  type PoolOptionsOf,
  type PoolVariableMeta,
} from '@nest-pools/core';

import { AXIOS_OPTIONS_AT_CLIENT } from '../transport/axios-options.js';
import { HTTP_POOL_FIELDS } from './http-pool.fields.js';
import { HTTP_POOL_PRESETS } from './http-pool.presets.js';
import { checkHttpPoolTls } from './http-pool.tls-config.js';

/**
 * Resolved configuration of one outbound HTTP pool, derived from {@link HTTP_POOL_FIELDS}. Env
 * durations are seconds (the Python clients' convention) unless the name ends in `_MS`; every
 * duration key is milliseconds. Every key, its env variable, unit, default and presets:
 * docs/configuration.md.
 */
export type HttpPoolConfig = PoolConfigOf<typeof HTTP_POOL_FIELDS>;

/**
 * Explicit options of an HTTP pool: any subset of {@link HttpPoolConfig}, in the config's units
 * (milliseconds). Other keys are accepted by the type so that they can be named as unknown.
 */
export type HttpPoolConfigInput = PoolOptionsOf<HttpPoolConfig>;

/** The HTTP pool's configuration: fields, presets and rules bound to core's parse engine. */
export const HTTP_POOL_DEFINITION = definePool({
  kind: 'http',
  label: 'HTTP',
  fields: HTTP_POOL_FIELDS,
  presets: HTTP_POOL_PRESETS,
  // axios request options given to the module fail startup with what to use instead; `transport`
  // and the others the client has under the same name stay client options.
  unsupported: AXIOS_OPTIONS_AT_CLIENT.filter(({ option }) => !(option in HTTP_POOL_FIELDS)),
  check(ctx) {
    ctx.checkOrder('limitPerHost', 'poolLimit', 'total socket limit');
    const health = ctx.values.healthUrl;
    if (
      typeof health === 'string' &&
      health.startsWith('/') &&
      ctx.values.baseURL === undefined &&
      ctx.isValid('baseURL')
    ) {
      ctx.issue(
        'healthUrl',
        `an absolute http(s):// URL, or set HTTP_BASE_URL so that a path can resolve`,
      );
    }
    // axios's own http adapter neither reads the client's proxy nor tunnels https through it.
    if (typeof ctx.values.proxy === 'string' && ctx.values.transport === 'http') {
      ctx.issue('proxy', 'no proxy with HTTP_TRANSPORT=http: use the undici transport for proxies');
    }
    checkHttpPoolTls(ctx);
  },
});

/**
 * Every HTTP pool variable: env name, aliases, option key, unit, default, presets and allowed
 * values (the source of the reference in docs/configuration.md).
 */
export const HTTP_POOL_ENV: readonly PoolVariableMeta[] = HTTP_POOL_DEFINITION.variables;

/**
 * Resolves an HTTP pool config. Each key comes from the explicit option, else the env variable
 * (canonical name, else its `AIOHTTP_*` alias, else its `REQUESTS_*` alias), else the `APP_ENV`
 * preset, else the library default.
 *
 * @throws ConfigValidationError listing every invalid variable (values masked)
 * @example
 * const config = parseHttpPoolConfig(process.env, { name: 'github', baseURL: 'https://api.github.com' });
 */
export const parseHttpPoolConfig: (
  env: EnvSource,
  options?: HttpPoolConfigInput,
  flags?: PoolConfigParseFlags,
) => HttpPoolConfig = HTTP_POOL_DEFINITION.parse;

/**
 * The effective configuration of an HTTP pool: every key's value (secrets masked), the source
 * that set it (option / env NAME as written / `APP_ENV` preset / default) and what is allowed.
 */
export const explainHttpPoolConfig: (
  env: EnvSource,
  options?: HttpPoolConfigInput,
  flags?: PoolConfigParseFlags,
) => PoolConfigExplanation = HTTP_POOL_DEFINITION.explain;
