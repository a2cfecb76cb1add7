import { ConfigValidationError, isSecretEnvName } from '@nest-pools/core';

import { validateEnvironment } from './validate-environment.js';

function issuesOf(env: Record<string, string>): { variables: string[]; message: string } {
  try {
    validateEnvironment(env);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    return { variables: error.issues.map((i) => i.variable), message: error.message };
  }
  return { variables: [], message: '' };
}

describe('validateEnvironment', () => {
  it('accepts an empty development environment', () => {
    expect(validateEnvironment({}).config.appEnv).toBe('development');
  });

  it('requires MONGODB_URL and REDIS_URL in production', () => {
    const { variables } = issuesOf({ APP_ENV: 'production', TELEGRAM_BOT_TOKEN: '1:a' });
    expect(variables).toEqual(expect.arrayContaining(['MONGODB_URL', 'REDIS_URL']));
  });

  it('lists app and pool variables together, masking secrets', () => {
    const { variables, message } = issuesOf({
      PORT: 'x',
      MONGODB_MAX_POOL_SIZE: '-5',
      REDIS_URL: 'http://user:hunter2secret@redis:6379',
      GITHUB_TOKEN: ' ',
      METRICS_TOKEN: 'short',
    });
    expect(variables).toEqual(
      expect.arrayContaining([
        'PORT',
        'MONGODB_MAX_POOL_SIZE',
        'REDIS_URL',
        'GITHUB_TOKEN',
        'METRICS_TOKEN',
      ]),
    );
    expect(message).not.toContain('hunter2secret');
    expect(message).not.toContain('short');
  });

  it('requires API_TOKEN_SECRET in staging and production and never shows its value', () => {
    const missing = issuesOf({ APP_ENV: 'staging', TELEGRAM_BOT_TOKEN: '1:a' });
    expect(missing.variables).toContain('API_TOKEN_SECRET');
    expect(missing.message).toMatch(
      /API_TOKEN_SECRET = \(not set\); allowed: required when APP_ENV=staging/,
    );
    const short = issuesOf({
      API_TOKEN_SECRET: 'shortApiSecret',
      API_TOKEN_PREVIOUS_SECRET: 'oldApiSecret',
    });
    expect(short.variables).toEqual(['API_TOKEN_SECRET', 'API_TOKEN_PREVIOUS_SECRET']);
    expect(short.message).toContain('API_TOKEN_SECRET = "***"');
    expect(short.message).not.toContain('shortApiSecret');
    expect(short.message).not.toContain('oldApiSecret');
    expect(isSecretEnvName('API_TOKEN_SECRET')).toBe(true);
    expect(isSecretEnvName('API_TOKEN_PREVIOUS_SECRET')).toBe(true);
  });
});
