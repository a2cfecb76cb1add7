import { z } from 'zod';

import type { EnvSource } from './app-env.js';
import { parsePoolConfig } from './parse-pool-config.js';
import type { PoolConfigParseFlags, PoolSpec } from './pool-config-context.js';
import {
  booleanField,
  countField,
  describeFields,
  durationField,
  enumField,
  type PoolField,
  type PoolFieldMap,
  type PoolVariableMeta,
  textField,
  urlField,
} from './pool-field.js';
import { POOL_PRESETS } from './presets.js';

/** HTTP transports the pool can run on. */
export const HTTP_TRANSPORTS = ['undici', 'http'] as const;

/** `undici` (Node's fetch engine) or Node's `http`/`https` agents. */
export type HttpTransport = (typeof HTTP_TRANSPORTS)[number];

/**
 * Resolved configuration of one outbound HTTP pool. Env durations are seconds (the Python clients'
 * convention) unless the name ends in `_MS`; every duration key is milliseconds.
 */
export interface HttpPoolConfig {
  /**
   * Pool name; selects the injection token and labels metrics.
   * @default 'default'
   */
  name: string;
  /**
   * Base URL that relative request URLs resolve against. Env `HTTP_BASE_URL`.
   * @default undefined
   */
  baseURL?: string;
  /**
   * Most open sockets across all hosts. Env `HTTP_POOL_LIMIT` (aliases `AIOHTTP_POOL_LIMIT`,
   * `REQUESTS_POOL_MAXSIZE`); presets 20 / 50 / 100.
   * @default 100
   */
  poolLimit: number;
  /**
   * Most open sockets per host (at most poolLimit). Env `HTTP_LIMIT_PER_HOST` (aliases
   * `AIOHTTP_LIMIT_PER_HOST`, `REQUESTS_POOL_CONNECTIONS`); presets 10 / 25 / 25.
   * @default 25
   */
  limitPerHost: number;
  /**
   * Budget of a whole request including retries' waits. Env `HTTP_TIMEOUT_TOTAL` (seconds; aliases
   * `AIOHTTP_TIMEOUT_TOTAL`, `REQUESTS_TIMEOUT`); presets 10 s / 15 s / 15 s.
   * @default 15000
   */
  timeoutTotalMs: number;
  /**
   * TCP/TLS connect timeout. Env `HTTP_CONNECT_TIMEOUT` (seconds).
   * @default 5000
   */
  connectTimeoutMs: number;
  /**
   * Longest silence while waiting for response bytes. Env `HTTP_READ_TIMEOUT` (seconds).
   * @default 10000
   */
  readTimeoutMs: number;
  /**
   * Idle keep-alive sockets close after this; keep it below the upstream's keep-alive timeout.
   * Env `HTTP_KEEPALIVE_TIMEOUT` (seconds).
   * @default 4000
   */
  keepAliveTimeoutMs: number;
  /**
   * Retries of a failed idempotent request (network errors, 429, 5xx). Env `HTTP_RETRIES` (alias
   * `REQUESTS_RETRIES`).
   * @default 2
   */
  retries: number;
  /**
   * Backoff base between retries (doubles per attempt, with jitter). Env `HTTP_RETRY_BACKOFF`
   * (seconds; alias `REQUESTS_RETRY_BACKOFF`).
   * @default 200
   */
  retryBackoffMs: number;
  /**
   * Longest `Retry-After` honoured; a longer one is not retried. Env `HTTP_RETRY_AFTER_MAX`
   * (seconds).
   * @default 30000
   */
  retryAfterMaxMs: number;
  /**
   * Also retry POST/PATCH (only safe when the upstream deduplicates). Env
   * `HTTP_RETRY_NON_IDEMPOTENT`.
   * @default false
   */
  retryNonIdempotent: boolean;
  /**
   * How long resolved addresses are cached; 0 = off. Env `HTTP_DNS_CACHE_TTL` (seconds).
   * @default 300000
   */
  dnsCacheTtlMs: number;
  /**
   * Redirects followed before failing. Env `HTTP_MAX_REDIRECTS`.
   * @default 5
   */
  maxRedirects: number;
  /**
   * `User-Agent` header. Env `HTTP_USER_AGENT`.
   * @default 'nest-pools'
   */
  userAgent: string;
  /**
   * Transport under the HTTP client. Env `HTTP_TRANSPORT`.
   * @default 'undici'
   */
  transport: HttpTransport;
  /**
   * URL (absolute, or a path under baseURL) the health indicator requests. Env `HTTP_HEALTH_URL`.
   * @default undefined
   */
  healthUrl?: string;
  /**
   * Time limit of one health request. Env `HTTP_HEALTH_TIMEOUT_MS`.
   * @default 1000
   */
  healthTimeoutMs: number;
  /**
   * How long closing the agents may take at shutdown. Env `HTTP_SHUTDOWN_TIMEOUT_MS`.
   * @default 5000
   */
  shutdownTimeoutMs: number;
  /**
   * Headers sent with every request (options only; values are masked when shown).
   * @default undefined
   */
  headers?: Record<string, string>;
}

/**
 * Explicit options of an HTTP pool: any subset of {@link HttpPoolConfig}, in the config's units
 * (milliseconds). Other keys are accepted by the type so that they can be named as unknown.
 */
export type HttpPoolConfigInput = Partial<HttpPoolConfig> & { readonly [key: string]: unknown };

const httpUrl = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^https?$/ }));
const healthUrl = z.union([
  httpUrl,
  z
    .string()
    .trim()
    .regex(/^\/[^\s]*$/),
]);

const headersField: PoolField<Record<string, string>> = {
  default: undefined,
  unit: 'text',
  allowed: 'options only',
  allowedOption: 'an object of header names to string values',
  description: 'Headers sent with every request (options only; values masked when shown).',
  fromOption: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), z.string()),
};

const HTTP_FIELDS = {
  baseURL: urlField({
    env: 'HTTP_BASE_URL',
    default: undefined,
    schema: httpUrl,
    allowed: 'an absolute http:// or https:// URL',
    description: 'Base URL that relative request URLs resolve against.',
  }),
  poolLimit: countField({
    env: 'HTTP_POOL_LIMIT',
    aliases: ['AIOHTTP_POOL_LIMIT', 'REQUESTS_POOL_MAXSIZE'],
    default: 100,
    min: 1,
    description: 'Most open sockets across all hosts.',
  }),
  limitPerHost: countField({
    env: 'HTTP_LIMIT_PER_HOST',
    aliases: ['AIOHTTP_LIMIT_PER_HOST', 'REQUESTS_POOL_CONNECTIONS'],
    default: 25,
    min: 1,
    description: 'Most open sockets per host; at most poolLimit.',
  }),
  timeoutTotalMs: durationField({
    env: 'HTTP_TIMEOUT_TOTAL',
    aliases: ['AIOHTTP_TIMEOUT_TOTAL', 'REQUESTS_TIMEOUT'],
    envUnit: 'seconds',
    default: 15_000,
    minMs: 1,
    description: 'Budget of a whole request, retries included.',
  }),
  connectTimeoutMs: durationField({
    env: 'HTTP_CONNECT_TIMEOUT',
    envUnit: 'seconds',
    default: 5000,
    minMs: 1,
    description: 'TCP/TLS connect timeout.',
  }),
  readTimeoutMs: durationField({
    env: 'HTTP_READ_TIMEOUT',
    envUnit: 'seconds',
    default: 10_000,
    minMs: 1,
    description: 'Longest silence while waiting for response bytes.',
  }),
  keepAliveTimeoutMs: durationField({
    env: 'HTTP_KEEPALIVE_TIMEOUT',
    envUnit: 'seconds',
    default: 4000,
    minMs: 1,
    description: "Idle keep-alive sockets close after this; keep it below the upstream's.",
  }),
  retries: countField({
    env: 'HTTP_RETRIES',
    aliases: ['REQUESTS_RETRIES'],
    default: 2,
    min: 0,
    max: 10,
    description: 'Retries of a failed idempotent request (network errors, 429, 5xx).',
  }),
  retryBackoffMs: durationField({
    env: 'HTTP_RETRY_BACKOFF',
    aliases: ['REQUESTS_RETRY_BACKOFF'],
    envUnit: 'seconds',
    default: 200,
    minMs: 0,
    zeroMeans: 'retry at once',
    description: 'Backoff base between retries (doubles per attempt, with jitter).',
  }),
  retryAfterMaxMs: durationField({
    env: 'HTTP_RETRY_AFTER_MAX',
    envUnit: 'seconds',
    default: 30_000,
    minMs: 0,
    zeroMeans: 'never wait for Retry-After',
    description: 'Longest Retry-After honoured; a longer one is not retried.',
  }),
  retryNonIdempotent: booleanField({
    env: 'HTTP_RETRY_NON_IDEMPOTENT',
    default: false,
    description: 'Also retry POST/PATCH (only safe when the upstream deduplicates).',
  }),
  dnsCacheTtlMs: durationField({
    env: 'HTTP_DNS_CACHE_TTL',
    envUnit: 'seconds',
    default: 300_000,
    minMs: 0,
    zeroMeans: 'off',
    description: 'How long resolved addresses are cached.',
  }),
  maxRedirects: countField({
    env: 'HTTP_MAX_REDIRECTS',
    default: 5,
    min: 0,
    max: 50,
    description: 'Redirects followed before failing; 0 = none.',
  }),
  userAgent: textField({
    env: 'HTTP_USER_AGENT',
    default: 'nest-pools',
    maxLength: 512,
    description: 'User-Agent header.',
  }),
  transport: enumField({
    env: 'HTTP_TRANSPORT',
    default: 'undici',
    values: HTTP_TRANSPORTS,
    description: "Transport under the HTTP client: undici or Node's http/https agents.",
  }),
  healthUrl: urlField({
    env: 'HTTP_HEALTH_URL',
    default: undefined,
    schema: healthUrl,
    allowed: 'an absolute http(s):// URL, or a path starting with / (needs HTTP_BASE_URL)',
    description: 'URL the health indicator requests.',
  }),
  healthTimeoutMs: durationField({
    env: 'HTTP_HEALTH_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 1000,
    minMs: 1,
    description: 'Time limit of one health request.',
  }),
  shutdownTimeoutMs: durationField({
    env: 'HTTP_SHUTDOWN_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'How long closing the agents may take at shutdown.',
  }),
  headers: headersField,
} satisfies PoolFieldMap<Omit<HttpPoolConfig, 'name'>>;

const HTTP_SPEC: PoolSpec = {
  kind: 'http',
  fields: HTTP_FIELDS,
  derived: [],
  unsupported: [],
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
  },
};

/**
 * Every HTTP pool variable: env name, aliases, option key, unit, default, presets and allowed
 * values (the source of the reference in docs/configuration.md).
 */
export const HTTP_POOL_ENV: readonly PoolVariableMeta[] = describeFields(HTTP_FIELDS, {
  development: POOL_PRESETS.development.http,
  staging: POOL_PRESETS.staging.http,
  production: POOL_PRESETS.production.http,
});

/** The parse engine's description of the HTTP pool (used by `collectPoolConfigIssues`). */
export const HTTP_POOL_SPEC: PoolSpec = HTTP_SPEC;

/**
 * Resolves an HTTP pool config. Each key comes from the explicit option, else the env variable
 * (canonical name, else its `AIOHTTP_*` alias, else its `REQUESTS_*` alias), else the `APP_ENV`
 * preset, else the library default.
 *
 * @throws ConfigValidationError listing every invalid variable (values masked)
 * @example
 * const config = parseHttpPoolConfig(process.env, { name: 'github', baseURL: 'https://api.github.com' });
 */
export function parseHttpPoolConfig(
  env: EnvSource,
  options?: HttpPoolConfigInput,
  flags?: PoolConfigParseFlags,
): HttpPoolConfig {
  return parsePoolConfig(HTTP_SPEC, env, options, flags) as unknown as HttpPoolConfig;
}
