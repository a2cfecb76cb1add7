import { baseEnv, buildCodebot, runCodebotToExit } from './codebot-harness.js';

interface Case {
  title: string;
  env: Record<string, string>;
  variables: string[];
  secrets: string[];
}

const CASES: Case[] = [
  {
    title: 'app and pool variables wrong at once',
    env: {
      PORT: 'eighty',
      MONGODB_MAX_POOL_SIZE: '-1',
      REDIS_URL: 'http://admin:redisSecretPw9@cache:6379',
      HTTP_POOL_LIMIT: 'zero',
      TELEGRAM_BOT_TOKEN: 'not-a-token-zzTopSecret',
      METRICS_PORT: '70000',
      SHUTDOWN_TIMEOUT_MS: '0',
    },
    variables: [
      'PORT',
      'MONGODB_MAX_POOL_SIZE',
      'REDIS_URL',
      'HTTP_POOL_LIMIT',
      'TELEGRAM_BOT_TOKEN',
      'METRICS_PORT',
      'SHUTDOWN_TIMEOUT_MS',
    ],
    secrets: ['redisSecretPw9', 'zzTopSecret'],
  },
  {
    title: 'production without database URLs',
    env: {
      APP_ENV: 'production',
      TELEGRAM_BOT_TOKEN: '12345:prodTokenValueXYZ',
      GITHUB_TOKEN: 'ghp_prodGithubSecret',
    },
    variables: ['MONGODB_URL', 'REDIS_URL'],
    secrets: ['prodTokenValueXYZ', 'ghp_prodGithubSecret'],
  },
  {
    title: 'unknown APP_ENV and cross-field pool rules',
    env: {
      APP_ENV: 'prod',
      MONGODB_MIN_POOL_SIZE: '50',
      MONGODB_MAX_POOL_SIZE: '10',
      MONGODB_COMPRESSORS: 'lz4',
      MONGODB_URL: 'mongodb://app:mongoPw1234@db:27017/x',
      TELEGRAM_WEBHOOK_SECRET: 'has spaces and hookSecret!',
      SHUTDOWN_DRAIN_DELAY_MS: '9000',
    },
    variables: [
      'APP_ENV',
      'MONGODB_MIN_POOL_SIZE',
      'MONGODB_COMPRESSORS',
      'TELEGRAM_WEBHOOK_SECRET',
    ],
    secrets: ['mongoPw1234', 'hookSecret'],
  },
  {
    title: 'drain delay not below the shutdown deadline',
    env: { SHUTDOWN_DRAIN_DELAY_MS: '30000', SHUTDOWN_TIMEOUT_MS: '20000', METRICS_TOKEN: 'short' },
    variables: ['SHUTDOWN_DRAIN_DELAY_MS', 'METRICS_TOKEN'],
    secrets: [],
  },
];

describe('CodeBot refuses a bad environment before listening', () => {
  beforeAll(() => buildCodebot(), 240_000);

  it.each(CASES)(
    '$title → exit 1 naming every variable, no secret',
    async ({ env, variables, secrets }) => {
      const { code, output } = await runCodebotToExit(baseEnv(env));
      expect(code).toBe(1);
      expect(output).toContain('CodeBot cannot start');
      for (const variable of variables) expect(output).toMatch(new RegExp(`\\b${variable}\\b`));
      for (const secret of secrets) expect(output).not.toContain(secret);
      expect(output).not.toContain('CODEBOT_READY');
      expect(output).not.toMatch(/listening on/);
      // One message: the header appears once and lists at least as many lines as variables.
      expect(output.match(/CodeBot cannot start/g)).toHaveLength(1);
    },
  );
});
