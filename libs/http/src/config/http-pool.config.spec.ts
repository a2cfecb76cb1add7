import { captureConfigError as configErrorOf } from '@nest-pools/core';

import { HTTP_POOL_TLS_FIELDS } from './http-pool.tls-config.js';
import { HTTP_POOL_ENV, type HttpPoolConfig, parseHttpPoolConfig } from './index.js';

// env name (canonical or alias), env value, config key, expected value (seconds → ms)
const EVERY_VARIABLE: Array<[string, string, keyof HttpPoolConfig, unknown]> = [
  ['HTTP_BASE_URL', 'https://api.github.com/', 'baseURL', 'https://api.github.com/'],
  ['HTTP_POOL_LIMIT', '80', 'poolLimit', 80],
  ['HTTP_LIMIT_PER_HOST', '8', 'limitPerHost', 8],
  ['HTTP_TIMEOUT_TOTAL', '12.5', 'timeoutTotalMs', 12_500],
  ['HTTP_CONNECT_TIMEOUT', '3', 'connectTimeoutMs', 3000],
  ['HTTP_READ_TIMEOUT', '7', 'readTimeoutMs', 7000],
  ['HTTP_KEEPALIVE_TIMEOUT', '4.5', 'keepAliveTimeoutMs', 4500],
  ['HTTP_RETRIES', '3', 'retries', 3],
  ['HTTP_RETRY_BACKOFF', '0.5', 'retryBackoffMs', 500],
  ['HTTP_RETRY_AFTER_MAX', '60', 'retryAfterMaxMs', 60_000],
  ['HTTP_RETRY_NON_IDEMPOTENT', 'true', 'retryNonIdempotent', true],
  ['HTTP_DNS_CACHE_TTL', '0', 'dnsCacheTtlMs', 0],
  ['HTTP_MAX_REDIRECTS', '0', 'maxRedirects', 0],
  ['HTTP_USER_AGENT', 'codebot/1.0', 'userAgent', 'codebot/1.0'],
  ['HTTP_POOL_METRICS', 'false', 'poolMetrics', false],
  ['HTTP_TRANSPORT', 'HTTP', 'transport', 'http'],
  ['HTTP_HEALTH_URL', 'http://127.0.0.1:8080/health', 'healthUrl', 'http://127.0.0.1:8080/health'],
  ['HTTP_HEALTH_TIMEOUT_MS', '400', 'healthTimeoutMs', 400],
  ['HTTP_SHUTDOWN_TIMEOUT_MS', '3000', 'shutdownTimeoutMs', 3000],
  ['HTTP_BREAKER_ENABLED', 'off', 'breakerEnabled', false],
  ['HTTP_BREAKER_FAILURES', '3', 'breakerFailures', 3],
  ['HTTP_BREAKER_HALF_OPEN_MS', '2500', 'breakerHalfOpenMs', 2500],
  // aliases (the Python clients' names)
  ['AIOHTTP_POOL_LIMIT', '90', 'poolLimit', 90],
  ['REQUESTS_POOL_MAXSIZE', '70', 'poolLimit', 70],
  ['AIOHTTP_LIMIT_PER_HOST', '9', 'limitPerHost', 9],
  ['REQUESTS_POOL_CONNECTIONS', '6', 'limitPerHost', 6],
  ['AIOHTTP_TIMEOUT_TOTAL', '15', 'timeoutTotalMs', 15_000],
  ['REQUESTS_TIMEOUT', '8', 'timeoutTotalMs', 8000],
  ['REQUESTS_RETRIES', '4', 'retries', 4],
  ['REQUESTS_RETRY_BACKOFF', '0.2', 'retryBackoffMs', 200],
  // proxies: the client's own, then the standard variables (lower-case names first)
  ['HTTP_PROXY_URL', 'http://proxy.internal:3128', 'proxy', 'http://proxy.internal:3128'],
  ['http_proxy', 'http://u:p@proxy:3128', 'httpProxy', 'http://u:p@proxy:3128'],
  ['HTTP_PROXY', 'http://proxy:3128/', 'httpProxy', 'http://proxy:3128/'],
  ['https_proxy', 'https://proxy:8443', 'httpsProxy', 'https://proxy:8443'],
  ['HTTPS_PROXY', 'http://proxy:3128', 'httpsProxy', 'http://proxy:3128'],
  ['no_proxy', 'localhost, .internal', 'noProxy', 'localhost,.internal'],
  ['NO_PROXY', '*', 'noProxy', '*'],
];

describe('parseHttpPoolConfig', () => {
  it('has a test row for every variable and alias of the schema', () => {
    // The TLS block needs real certificate files: its rows are in
    // test/http/http-pool-tls-config.e2e-spec.ts, which makes them with openssl.
    const tls = new Set(Object.values(HTTP_POOL_TLS_FIELDS).map((f) => f.env));
    const names = HTTP_POOL_ENV.flatMap((v) =>
      v.env === undefined || tls.has(v.env) ? [] : [v.env, ...v.aliases],
    );
    expect(EVERY_VARIABLE.map(([env]) => env).sort()).toEqual(names.sort());
  });

  it.each(EVERY_VARIABLE)('reads %s=%j into %s', (env, value, key, expected) => {
    expect(parseHttpPoolConfig({ [env]: value })[key]).toEqual(expected);
  });

  it('maps aliases as documented: canonical > AIOHTTP_* > REQUESTS_*', () => {
    expect(
      HTTP_POOL_ENV.filter((v) => v.aliases.length > 0).map((v) => [v.env, ...v.aliases]),
    ).toEqual([
      ['HTTP_POOL_LIMIT', 'AIOHTTP_POOL_LIMIT', 'REQUESTS_POOL_MAXSIZE'],
      ['HTTP_LIMIT_PER_HOST', 'AIOHTTP_LIMIT_PER_HOST', 'REQUESTS_POOL_CONNECTIONS'],
      ['HTTP_TIMEOUT_TOTAL', 'AIOHTTP_TIMEOUT_TOTAL', 'REQUESTS_TIMEOUT'],
      ['HTTP_RETRIES', 'REQUESTS_RETRIES'],
      ['HTTP_RETRY_BACKOFF', 'REQUESTS_RETRY_BACKOFF'],
      // the standard proxy variables: lower-case first, as curl and undici read them
      ['http_proxy', 'HTTP_PROXY'],
      ['https_proxy', 'HTTPS_PROXY'],
      ['no_proxy', 'NO_PROXY'],
    ]);
    const all = {
      HTTP_TIMEOUT_TOTAL: '20',
      AIOHTTP_TIMEOUT_TOTAL: '15',
      REQUESTS_TIMEOUT: '8',
      AIOHTTP_POOL_LIMIT: '100',
      REQUESTS_POOL_MAXSIZE: '60',
      REQUESTS_POOL_CONNECTIONS: '20',
      HTTP_RETRIES: '1',
      REQUESTS_RETRIES: '5',
    };
    const config = parseHttpPoolConfig(all);
    expect(config.timeoutTotalMs).toBe(20_000); // canonical wins
    expect(config.poolLimit).toBe(100); // AIOHTTP_* over REQUESTS_*
    expect(config.limitPerHost).toBe(20); // REQUESTS_* when it is the only one
    expect(config.retries).toBe(1);
    const { HTTP_TIMEOUT_TOTAL: _canonical, ...aliasesOnly } = all;
    expect(parseHttpPoolConfig(aliasesOnly).timeoutTotalMs).toBe(15_000);
  });

  it('names an alias as the user wrote it', () => {
    const err = configErrorOf(() =>
      parseHttpPoolConfig({ AIOHTTP_POOL_LIMIT: 'many', REQUESTS_RETRY_BACKOFF: '-1' }),
    );
    expect(err.issues.map((i) => i.variable)).toEqual([
      'AIOHTTP_POOL_LIMIT',
      'REQUESTS_RETRY_BACKOFF',
    ]);
    expect(err.message).toContain('AIOHTTP_POOL_LIMIT = "many"');
  });

  it('ignores an invalid alias hidden by a valid canonical name', () => {
    expect(parseHttpPoolConfig({ HTTP_POOL_LIMIT: '40', AIOHTTP_POOL_LIMIT: 'x' }).poolLimit).toBe(
      40,
    );
  });

  it.each([
    [{}, 20, 10, 10_000],
    [{ APP_ENV: 'staging' }, 50, 25, 15_000],
    [{ APP_ENV: 'production' }, 100, 25, 15_000],
    [{ NODE_ENV: 'production' }, 100, 25, 15_000],
  ])('applies the preset of %j', (env, limit, perHost, total) => {
    const config = parseHttpPoolConfig(env);
    expect([config.poolLimit, config.limitPerHost, config.timeoutTotalMs]).toEqual([
      limit,
      perHost,
      total,
    ]);
  });

  it.each(['development', 'staging', 'production'])(
    'ranks option > env > preset > default in %s',
    (appEnv) => {
      const env = { APP_ENV: appEnv, AIOHTTP_POOL_LIMIT: '30', HTTP_MAX_REDIRECTS: '2' };
      expect(parseHttpPoolConfig(env, { poolLimit: 40 }).poolLimit).toBe(40);
      expect(parseHttpPoolConfig(env).poolLimit).toBe(30);
      expect(parseHttpPoolConfig(env).maxRedirects).toBe(2);
      expect(parseHttpPoolConfig({ APP_ENV: appEnv }).maxRedirects).toBe(5);
    },
  );

  it('uses library defaults and the development preset with an empty env', () => {
    expect(parseHttpPoolConfig({})).toEqual({
      name: 'default',
      poolLimit: 20,
      limitPerHost: 10,
      timeoutTotalMs: 10_000,
      connectTimeoutMs: 5000,
      readTimeoutMs: 10_000,
      keepAliveTimeoutMs: 4000,
      retries: 2,
      retryBackoffMs: 200,
      retryAfterMaxMs: 30_000,
      retryNonIdempotent: false,
      dnsCacheTtlMs: 300_000,
      maxRedirects: 5,
      userAgent: 'nest-pools',
      transport: 'undici',
      tlsRejectUnauthorized: true,
      allowH2: false,
      healthTimeoutMs: 1000,
      shutdownTimeoutMs: 5000,
      breakerEnabled: true,
      breakerFailures: 5,
      breakerHalfOpenMs: 1000,
      poolMetrics: true,
    } satisfies HttpPoolConfig);
  });

  it('takes HTTP_KEEPALIVE_TIMEOUT=0 as keep-alive off and names the variable for a negative one', () => {
    expect(parseHttpPoolConfig({ HTTP_KEEPALIVE_TIMEOUT: '0' }).keepAliveTimeoutMs).toBe(0);
    const issue = configErrorOf(() => parseHttpPoolConfig({ HTTP_KEEPALIVE_TIMEOUT: '-1' }))
      .issues[0];
    expect(issue?.variable).toBe('HTTP_KEEPALIVE_TIMEOUT');
    expect(issue?.given).toBe('"-1"');
    expect(issue?.allowed).toMatch(/0 = keep-alive off/);
  });

  it('takes HTTP_POOL_METRICS=false and refuses a value that is not a boolean', () => {
    expect(parseHttpPoolConfig({ HTTP_POOL_METRICS: 'false' }).poolMetrics).toBe(false);
    const issue = configErrorOf(() => parseHttpPoolConfig({ HTTP_POOL_METRICS: 'sometimes' }))
      .issues[0];
    expect([issue?.variable, issue?.given]).toEqual(['HTTP_POOL_METRICS', '"sometimes"']);
    expect(issue?.allowed).toMatch(/boolean/);
  });

  it('takes headers as an option only, and lowers a preset per-host limit to a smaller total', () => {
    const config = parseHttpPoolConfig(
      { APP_ENV: 'production', HTTP_POOL_LIMIT: '10' },
      {
        headers: { authorization: 'Bearer abcdefghijkl' },
        healthUrl: '/ping',
        baseURL: 'http://up',
      },
    );
    expect(config.headers).toEqual({ authorization: 'Bearer abcdefghijkl' });
    expect([config.poolLimit, config.limitPerHost]).toEqual([10, 10]);
    expect(config.healthUrl).toBe('/ping');
  });

  it('refuses a relative health URL without a base URL', () => {
    expect(
      configErrorOf(() => parseHttpPoolConfig({ HTTP_HEALTH_URL: '/ping' })).issues[0]?.variable,
    ).toBe('HTTP_HEALTH_URL');
  });

  describe('proxies', () => {
    it('reads the lower-case standard names before the upper-case ones', () => {
      const config = parseHttpPoolConfig({
        http_proxy: 'http://lower:1',
        HTTP_PROXY: 'http://upper:1',
        NO_PROXY: 'a.example',
        no_proxy: 'b.example',
      });
      expect(config).toMatchObject({ httpProxy: 'http://lower:1', noProxy: 'b.example' });
    });

    it('takes none / direct / off in HTTP_PROXY_URL and false as an option for "always direct"', () => {
      expect(parseHttpPoolConfig({ HTTP_PROXY_URL: 'None' }).proxy).toBe(false);
      expect(parseHttpPoolConfig({ HTTP_PROXY_URL: 'direct' }).proxy).toBe(false);
      expect(parseHttpPoolConfig({}, { proxy: false }).proxy).toBe(false);
    });

    it('reads NO_PROXY leniently: entries undici never matches do not stop the app', () => {
      expect(
        parseHttpPoolConfig({ NO_PROXY: 'localhost,127.0.0.1,::1,10.0.0.0/8,.svc' }).noProxy,
      ).toBe('localhost,127.0.0.1,::1,10.0.0.0/8,.svc');
    });

    it('takes noProxy entries separated by commas or spaces', () => {
      expect(parseHttpPoolConfig({}, { noProxy: 'localhost, *.corp 10.0.0.1:8080' }).noProxy).toBe(
        'localhost,*.corp,10.0.0.1:8080',
      );
    });

    it('refuses a malformed proxy URL naming the variable, with the password masked', () => {
      const error = configErrorOf(() =>
        parseHttpPoolConfig({
          HTTPS_PROXY: 'http://bot:hunter22@proxy:3128/path',
          http_proxy: 'socks5://proxy:1080',
          HTTP_PROXY_URL: 'proxy:3128',
        }),
      );
      const text = error.message;
      for (const name of ['HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY_URL']) {
        expect(text).toContain(name);
      }
      expect(text).not.toContain('hunter22');
      expect(text).toContain('http://bot:***@proxy:3128/path');
    });

    it('refuses the proxy option with the http transport, which cannot use it', () => {
      const error = configErrorOf(() =>
        parseHttpPoolConfig({ HTTP_TRANSPORT: 'http' }, { proxy: 'http://proxy:3128' }),
      );
      expect(error.message).toContain('options.proxy');
      expect(error.message).toContain('use the undici transport for proxies');
      expect(parseHttpPoolConfig({ HTTP_TRANSPORT: 'http' }, { proxy: false }).proxy).toBe(false);
    });
  });
});
