import { ConfigValidationError } from '@nest-pools/core';

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
});
