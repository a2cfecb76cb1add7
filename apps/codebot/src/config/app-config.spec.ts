import { parseAppConfig } from './app-config.js';

const SECRET = 'app-config-spec-secret-0123456789abcdef';

describe('parseAppConfig', () => {
  it('uses development defaults', () => {
    const { config, issues } = parseAppConfig({}, 'development');
    expect(issues).toEqual([]);
    expect(config).toMatchObject({ port: 3000, shutdownDrainDelayMs: 0, shutdownTimeoutMs: 25000 });
  });

  it('drains 5 s in production and requires the bot token and the API token secret', () => {
    expect(parseAppConfig({}, 'production').issues.map((i) => i.variable)).toEqual([
      'TELEGRAM_BOT_TOKEN',
      'API_TOKEN_SECRET',
    ]);
    expect(
      parseAppConfig({ TELEGRAM_BOT_TOKEN: '', API_TOKEN_SECRET: ' ' }, 'staging').issues,
    ).toHaveLength(2);
    const { config } = parseAppConfig(
      { TELEGRAM_BOT_TOKEN: '1:abc', API_TOKEN_SECRET: SECRET },
      'production',
    );
    expect(config?.apiTokenSecret).toBe(SECRET);
    expect(config?.shutdownDrainDelayMs).toBe(5000);
    expect(config?.telegramApiUrl).toBe('https://api.telegram.org');
  });

  it('lists every bad variable at once', () => {
    const { issues } = parseAppConfig(
      {
        PORT: 'eighty',
        TELEGRAM_BOT_TOKEN: 'nocolon',
        GITHUB_API_URL: 'ftp://x',
        SHUTDOWN_DRAIN_DELAY_MS: '30000',
        METRICS_PORT: '3000',
        RATE_LIMIT_MAX: '-1',
      },
      'development',
    );
    expect(issues.map((i) => i.variable).sort()).toEqual(
      [
        'GITHUB_API_URL',
        'METRICS_PORT',
        'PORT',
        'RATE_LIMIT_MAX',
        'SHUTDOWN_DRAIN_DELAY_MS',
        'TELEGRAM_BOT_TOKEN',
      ].sort(),
    );
  });

  it('leaves API keys off in development unless API_TOKEN_SECRET is set', () => {
    expect(parseAppConfig({}, 'development').config?.apiTokenSecret).toBeUndefined();
    expect(
      parseAppConfig({ API_TOKEN_SECRET: `  ${SECRET} ` }, 'development').config?.apiTokenSecret,
    ).toBe(SECRET);
  });

  it('refuses a short API_TOKEN_SECRET and a previous secret without a current one', () => {
    expect(
      parseAppConfig({ API_TOKEN_SECRET: 'too-short' }, 'development').issues.map(
        (i) => i.variable,
      ),
    ).toEqual(['API_TOKEN_SECRET']);
    expect(
      parseAppConfig({ API_TOKEN_PREVIOUS_SECRET: SECRET }, 'development').issues.map(
        (i) => i.variable,
      ),
    ).toEqual(['API_TOKEN_PREVIOUS_SECRET']);
    const rotating = parseAppConfig(
      { API_TOKEN_SECRET: SECRET, API_TOKEN_PREVIOUS_SECRET: `old-${SECRET}` },
      'development',
    ).config;
    expect(rotating).toMatchObject({
      apiTokenSecret: SECRET,
      apiTokenPreviousSecret: `old-${SECRET}`,
    });
  });

  it('keeps pooling unless the benchmark switch is set, and refuses the switch in production', () => {
    expect(parseAppConfig({}, 'staging').config).toBeUndefined();
    expect(parseAppConfig({}, 'development').config?.benchDefeatPooling).toBe(false);
    expect(
      parseAppConfig({ CODEBOT_BENCH_DEFEAT_POOLING: '1' }, 'development').config
        ?.benchDefeatPooling,
    ).toBe(true);
    expect(
      parseAppConfig({ CODEBOT_BENCH_DEFEAT_POOLING: 'yes' }, 'development').issues.map(
        (i) => i.variable,
      ),
    ).toEqual(['CODEBOT_BENCH_DEFEAT_POOLING']);
    const production = parseAppConfig(
      {
        CODEBOT_BENCH_DEFEAT_POOLING: '1',
        TELEGRAM_BOT_TOKEN: '1:abc',
        API_TOKEN_SECRET: SECRET,
      },
      'production',
    );
    expect(production.config).toBeUndefined();
    expect(production.issues.map((i) => i.variable)).toEqual(['CODEBOT_BENCH_DEFEAT_POOLING']);
  });
});
