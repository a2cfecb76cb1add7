import { parseAppConfig } from './app-config.js';

describe('parseAppConfig', () => {
  it('uses development defaults', () => {
    const { config, issues } = parseAppConfig({}, 'development');
    expect(issues).toEqual([]);
    expect(config).toMatchObject({ port: 3000, shutdownDrainDelayMs: 0, shutdownTimeoutMs: 25000 });
  });

  it('drains 5 s in production and requires the bot token', () => {
    expect(parseAppConfig({}, 'production').issues.map((i) => i.variable)).toEqual([
      'TELEGRAM_BOT_TOKEN',
    ]);
    expect(parseAppConfig({ TELEGRAM_BOT_TOKEN: '' }, 'staging').issues).toHaveLength(1);
    const { config } = parseAppConfig({ TELEGRAM_BOT_TOKEN: '1:abc' }, 'production');
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
});
