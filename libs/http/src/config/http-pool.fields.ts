import {
  booleanField,
  breakerEnabledField,
  breakerFailuresField,
  breakerHalfOpenField,
  countField,
  durationField,
  enumField,
  type PoolField,
  type PoolFields,
  poolMetricsField,
  textField,
  urlField,
} from '@nest-pools/core';
import { z } from 'zod';

import { noProxyField, proxyField, proxyUrlField } from './http-pool.proxy-fields.js';
import { HTTP_POOL_TLS_FIELDS } from './http-pool.tls-config.js';

/** HTTP transports the pool can run on. */
export const HTTP_TRANSPORTS = ['undici', 'http'] as const;

/** `undici` (Node's fetch engine) or Node's `http`/`https` agents. */
export type HttpTransport = (typeof HTTP_TRANSPORTS)[number];

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

const headersField: PoolField<Record<string, string>, undefined> = {
  default: undefined,
  unit: 'text',
  allowed: 'options only',
  allowedOption: 'an object of header names to string values',
  description: 'Headers sent with every request (options only; values masked when shown).',
  fromOption: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), z.string()),
};

/**
 * Every variable of an HTTP pool, in reference order: env name and aliases, option key, unit,
 * default, allowed values and meaning. The config type ({@link HttpPoolConfig}), the generated
 * tables of docs/configuration.md and `config:explain` all come from this map.
 */
export const HTTP_POOL_FIELDS = {
  /**
   * Base URL that relative request URLs resolve against. Env `HTTP_BASE_URL`.
   * @default undefined
   */
  baseURL: urlField({
    env: 'HTTP_BASE_URL',
    default: undefined,
    schema: httpUrl,
    allowed: 'an absolute http:// or https:// URL',
    description: 'Base URL that relative request URLs resolve against.',
  }),
  /**
   * Most open sockets across all hosts. Env `HTTP_POOL_LIMIT` (aliases `AIOHTTP_POOL_LIMIT`,
   * `REQUESTS_POOL_MAXSIZE`); presets 20 / 50 / 100.
   * @default 100
   */
  poolLimit: countField({
    env: 'HTTP_POOL_LIMIT',
    aliases: ['AIOHTTP_POOL_LIMIT', 'REQUESTS_POOL_MAXSIZE'],
    default: 100,
    min: 1,
    description: 'Most open sockets across all hosts.',
  }),
  /**
   * Most open sockets per host (at most poolLimit). Env `HTTP_LIMIT_PER_HOST` (aliases
   * `AIOHTTP_LIMIT_PER_HOST`, `REQUESTS_POOL_CONNECTIONS`); presets 10 / 25 / 25.
   * @default 25
   */
  limitPerHost: countField({
    env: 'HTTP_LIMIT_PER_HOST',
    aliases: ['AIOHTTP_LIMIT_PER_HOST', 'REQUESTS_POOL_CONNECTIONS'],
    default: 25,
    min: 1,
    description: 'Most open sockets per host; at most poolLimit.',
  }),
  /**
   * Budget of a whole request including retries' waits. Env `HTTP_TIMEOUT_TOTAL` (seconds; aliases
   * `AIOHTTP_TIMEOUT_TOTAL`, `REQUESTS_TIMEOUT`); presets 10 s / 15 s / 15 s.
   * @default 15000
   */
  timeoutTotalMs: durationField({
    env: 'HTTP_TIMEOUT_TOTAL',
    aliases: ['AIOHTTP_TIMEOUT_TOTAL', 'REQUESTS_TIMEOUT'],
    envUnit: 'seconds',
    default: 15_000,
    minMs: 1,
    description: 'Budget of a whole request, retries included.',
  }),
  /**
   * TCP/TLS connect timeout. Env `HTTP_CONNECT_TIMEOUT` (seconds).
   * @default 5000
   */
  connectTimeoutMs: durationField({
    env: 'HTTP_CONNECT_TIMEOUT',
    envUnit: 'seconds',
    default: 5000,
    minMs: 1,
    description: 'TCP/TLS connect timeout.',
  }),
  /**
   * Longest silence while waiting for response bytes. Env `HTTP_READ_TIMEOUT` (seconds).
   * @default 10000
   */
  readTimeoutMs: durationField({
    env: 'HTTP_READ_TIMEOUT',
    envUnit: 'seconds',
    default: 10_000,
    minMs: 1,
    description: 'Longest silence while waiting for response bytes.',
  }),
  /**
   * Idle keep-alive sockets close after this; keep it below the upstream's keep-alive timeout.
   * 0 turns keep-alive off: each request sends `Connection: close` on a new connection (for
   * upstreams that mishandle reuse, and to measure what reuse is worth). Env
   * `HTTP_KEEPALIVE_TIMEOUT` (seconds).
   * @default 4000
   */
  keepAliveTimeoutMs: durationField({
    env: 'HTTP_KEEPALIVE_TIMEOUT',
    envUnit: 'seconds',
    default: 4000,
    minMs: 0,
    zeroMeans: 'keep-alive off: every request opens its own connection and closes it',
    description: "Idle keep-alive sockets close after this; keep it below the upstream's.",
  }),
  /**
   * Retries of a failed idempotent request (network errors, 429, 5xx). Env `HTTP_RETRIES` (alias
   * `REQUESTS_RETRIES`).
   * @default 2
   */
  retries: countField({
    env: 'HTTP_RETRIES',
    aliases: ['REQUESTS_RETRIES'],
    default: 2,
    min: 0,
    max: 10,
    description: 'Retries of a failed idempotent request (network errors, 429, 5xx).',
  }),
  /**
   * Backoff base between retries (doubles per attempt, with jitter). Env `HTTP_RETRY_BACKOFF`
   * (seconds; alias `REQUESTS_RETRY_BACKOFF`).
   * @default 200
   */
  retryBackoffMs: durationField({
    env: 'HTTP_RETRY_BACKOFF',
    aliases: ['REQUESTS_RETRY_BACKOFF'],
    envUnit: 'seconds',
    default: 200,
    minMs: 0,
    zeroMeans: 'retry at once',
    description: 'Backoff base between retries (doubles per attempt, with jitter).',
  }),
  /**
   * Longest `Retry-After` honoured; a longer one is not retried. Env `HTTP_RETRY_AFTER_MAX`
   * (seconds).
   * @default 30000
   */
  retryAfterMaxMs: durationField({
    env: 'HTTP_RETRY_AFTER_MAX',
    envUnit: 'seconds',
    default: 30_000,
    minMs: 0,
    zeroMeans: 'never wait for Retry-After',
    description: 'Longest Retry-After honoured; a longer one is not retried.',
  }),
  /**
   * Also retry POST/PATCH (only safe when the upstream deduplicates). Env
   * `HTTP_RETRY_NON_IDEMPOTENT`.
   * @default false
   */
  retryNonIdempotent: booleanField({
    env: 'HTTP_RETRY_NON_IDEMPOTENT',
    default: false,
    description: 'Also retry POST/PATCH (only safe when the upstream deduplicates).',
  }),
  /**
   * How long resolved addresses are cached; 0 = off. Env `HTTP_DNS_CACHE_TTL` (seconds).
   * @default 300000
   */
  dnsCacheTtlMs: durationField({
    env: 'HTTP_DNS_CACHE_TTL',
    envUnit: 'seconds',
    default: 300_000,
    minMs: 0,
    zeroMeans: 'off',
    description: 'How long resolved addresses are cached.',
  }),
  /**
   * Redirects followed before failing. Env `HTTP_MAX_REDIRECTS`.
   * @default 5
   */
  maxRedirects: countField({
    env: 'HTTP_MAX_REDIRECTS',
    default: 5,
    min: 0,
    max: 50,
    description: 'Redirects followed before failing; 0 = none.',
  }),
  /**
   * `User-Agent` header. Env `HTTP_USER_AGENT`.
   * @default 'nest-pools'
   */
  userAgent: textField({
    env: 'HTTP_USER_AGENT',
    default: 'nest-pools',
    maxLength: 512,
    description: 'User-Agent header.',
  }),
  /**
   * Transport under the HTTP client. Env `HTTP_TRANSPORT`.
   * @default 'undici'
   */
  transport: enumField({
    env: 'HTTP_TRANSPORT',
    default: 'undici',
    values: HTTP_TRANSPORTS,
    description: "Transport under the HTTP client: undici or Node's http/https agents.",
  }),
  // TLS trust, client certificate and HTTP/2: their own block (http-pool.tls-config.ts).
  ...HTTP_POOL_TLS_FIELDS,
  /**
   * URL (absolute, or a path under baseURL) the health indicator requests. Env `HTTP_HEALTH_URL`.
   * @default undefined
   */
  healthUrl: urlField({
    env: 'HTTP_HEALTH_URL',
    default: undefined,
    schema: healthUrl,
    allowed: 'an absolute http(s):// URL, or a path starting with / (needs HTTP_BASE_URL)',
    description: 'URL the health indicator requests.',
  }),
  /**
   * Time limit of one health request. Env `HTTP_HEALTH_TIMEOUT_MS`.
   * @default 1000
   */
  healthTimeoutMs: durationField({
    env: 'HTTP_HEALTH_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 1000,
    minMs: 1,
    description: 'Time limit of one health request.',
  }),
  /**
   * How long closing the agents may take at shutdown. Env `HTTP_SHUTDOWN_TIMEOUT_MS`.
   * @default 5000
   */
  shutdownTimeoutMs: durationField({
    env: 'HTTP_SHUTDOWN_TIMEOUT_MS',
    envUnit: 'milliseconds',
    default: 5000,
    minMs: 1,
    description: 'How long closing the agents may take at shutdown.',
  }),
  /**
   * Record this client's metrics (request durations, open sockets, pending requests, retries,
   * errors, breaker state) on the application's registry; `false` records and exports nothing
   * for it. Env `HTTP_POOL_METRICS`.
   * @default true
   */
  poolMetrics: poolMetricsField('HTTP_POOL_METRICS'),
  /**
   * Headers sent with every request (options only; values are masked when shown).
   * @default undefined
   */
  headers: headersField,
  /**
   * Let the circuit breaker open: after `breakerFailures` connection failures or timeouts in a
   * row, calls to this HTTP (one circuit per origin) pool fail at once with `PoolUnavailableError` until a trial call
   * succeeds. Env `HTTP_BREAKER_ENABLED`.
   * @default true
   */
  breakerEnabled: breakerEnabledField('HTTP_BREAKER_ENABLED'),
  /**
   * Consecutive connection-level failures or timeouts that open the circuit; application
   * errors never count. Env `HTTP_BREAKER_FAILURES`.
   * @default 5
   */
  breakerFailures: breakerFailuresField('HTTP_BREAKER_FAILURES'),
  /**
   * How long an open circuit fails calls before one trial call. Env `HTTP_BREAKER_HALF_OPEN_MS`.
   * @default 1000
   */
  breakerHalfOpenMs: breakerHalfOpenField('HTTP_BREAKER_HALF_OPEN_MS'),
  // ── Proxies ─────────────────────────────────────────────────────────────────────────────────
  // The client's own proxy (HTTP_PROXY_URL) and the standard http_proxy / https_proxy / no_proxy
  // variables, lower-case names first as curl and undici read them; routing and NO_PROXY matching
  // are undici's EnvHttpProxyAgent's (transport/undici-proxy.ts).
  /**
   * Proxy of this client for http and https URLs alike (hosts in `noProxy` still go direct); wins
   * over `httpProxy` / `httpsProxy`. `false` (env `none`) = always direct. Env `HTTP_PROXY_URL`.
   * @default undefined
   */
  proxy: proxyField,
  /**
   * Proxy for http:// URLs (and for https:// ones when `httpsProxy` is not set). Env
   * `http_proxy` (alias `HTTP_PROXY`).
   * @default undefined
   */
  httpProxy: proxyUrlField(
    'http_proxy',
    'HTTP_PROXY',
    'Proxy for http:// URLs, and for https:// ones when https_proxy is not set.',
  ),
  /**
   * Proxy for https:// URLs (a CONNECT tunnel). Env `https_proxy` (alias `HTTPS_PROXY`).
   * @default undefined
   */
  httpsProxy: proxyUrlField(
    'https_proxy',
    'HTTPS_PROXY',
    'Proxy for https:// URLs (a CONNECT tunnel; TLS stays end to end).',
  ),
  /**
   * Hosts that never go through a proxy: names (matching their subdomains too), `.domain`,
   * `*.domain`, IP addresses, each with an optional `:port`, or `*`. Env `no_proxy` (alias
   * `NO_PROXY`).
   * @default undefined
   */
  noProxy: noProxyField,
} satisfies PoolFields;
