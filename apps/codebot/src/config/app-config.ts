import { z } from 'zod';

/** Deployment environment, resolved from `APP_ENV` (or `NODE_ENV`) by `@nest-pools/core`. */
export type CodebotEnv = 'development' | 'staging' | 'production';

/** Injection token of the validated {@link AppConfig}. */
export const APP_CONFIG = 'CodebotAppConfig';

/** Telegram's public Bot API, used when `TELEGRAM_API_URL` is unset outside development. */
export const TELEGRAM_PUBLIC_API_URL = 'https://api.telegram.org';

/** GitHub's public REST API, used when `GITHUB_API_URL` is unset outside development. */
export const GITHUB_PUBLIC_API_URL = 'https://api.github.com';

/** Bot token used with the local Telegram stand-in when `TELEGRAM_BOT_TOKEN` is unset. */
export const DEVELOPMENT_BOT_TOKEN = '100000:development-token';

/** CodeBot's own settings (the pools read theirs through their modules). */
export interface AppConfig {
  /** Resolved deployment environment. */
  appEnv: CodebotEnv;
  /**
   * HTTP port of the API, webhook, health and (without `METRICS_PORT`) metrics endpoints.
   * @default 3000
   */
  port: number;
  /** Bot token; replies go to `<telegramApiUrl>/bot<token>/sendMessage`. */
  telegramBotToken: string;
  /** Expected `X-Telegram-Bot-Api-Secret-Token`; unset disables the check. */
  telegramWebhookSecret?: string;
  /**
   * Telegram Bot API base URL.
   * @default 'https://api.telegram.org' (a local stand-in in development when unset)
   */
  telegramApiUrl: string;
  /**
   * GitHub REST API base URL.
   * @default 'https://api.github.com' (a local stand-in in development when unset)
   */
  githubApiUrl: string;
  /** Token for creating gists (`/share`); reading public gists needs none. */
  githubToken?: string;
  /**
   * Time between readiness turning 503 and the server closing.
   * @default 5000 in staging and production, 0 in development
   */
  shutdownDrainDelayMs: number;
  /**
   * Whole-shutdown deadline; past it the process exits 1 naming what was still open.
   * @default 25000
   */
  shutdownTimeoutMs: number;
  /** Separate port for `/metrics`; unset serves it on `port`. */
  metricsPort?: number;
  /** Bearer token required by `/metrics`; unset leaves it open. */
  metricsToken?: string;
  /**
   * Signs and verifies REST API keys (`API_TOKEN_SECRET`). Required in staging and production;
   * unset in development turns API keys off: anyone can write or delete any snippet.
   */
  apiTokenSecret?: string;
  /** A retired `API_TOKEN_SECRET` whose keys are still accepted during a rotation. */
  apiTokenPreviousSecret?: string;
  /**
   * Requests per owner per window on `/api/snippets` (and per chat on the bot).
   * @default 60
   */
  rateLimitMax: number;
  /**
   * Rate-limit window.
   * @default 60000
   */
  rateLimitWindowMs: number;
  /**
   * How long `GET /api/snippets/:owner/:name` results stay cached in Redis.
   * @default 300000
   */
  snippetCacheTtlMs: number;
  /**
   * How long a Telegram `update_id` is remembered for de-duplication.
   * @default 86400000
   */
  updateDedupeTtlMs: number;
  /**
   * Benchmarks only (`CODEBOT_BENCH_DEFEAT_POOLING=1`, refused when `APP_ENV=production`): every
   * Redis command of the cache and rate limit opens and quits its own connection, so
   * `npm run bench -- load` can measure the app without pooling (with `MONGODB_MAX_POOL_SIZE=1`
   * and `HTTP_KEEPALIVE_TIMEOUT=0` for the other two pools).
   * @default false
   */
  benchDefeatPooling: boolean;
}

const TOKEN_PATTERN = /^\d+:[A-Za-z0-9_-]+$/;
const WEBHOOK_SECRET_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'not an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const httpUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  })
  .transform((value) => value.replace(/\/+$/, ''));

/**
 * One entry per variable: the schema and the human text of what is allowed. The text is what the
 * startup error prints, so it must be enough to fix the value without reading code.
 */
export const APP_ENV_VARIABLES = {
  PORT: { schema: int(0, 65535), allowed: 'an integer port 0..65535' },
  TELEGRAM_BOT_TOKEN: {
    schema: z.string().trim().regex(TOKEN_PATTERN),
    allowed: 'a Telegram bot token like 123456:ABC-def_ghi',
  },
  TELEGRAM_WEBHOOK_SECRET: {
    schema: z.string().regex(WEBHOOK_SECRET_PATTERN),
    allowed: '1-256 characters A-Z a-z 0-9 _ -',
  },
  TELEGRAM_API_URL: { schema: httpUrl, allowed: 'an http:// or https:// URL' },
  GITHUB_API_URL: { schema: httpUrl, allowed: 'an http:// or https:// URL' },
  GITHUB_TOKEN: { schema: z.string().trim().min(1), allowed: 'a non-empty GitHub token' },
  SHUTDOWN_DRAIN_DELAY_MS: {
    schema: int(0, 600_000),
    allowed: 'milliseconds 0..600000, below SHUTDOWN_TIMEOUT_MS',
  },
  SHUTDOWN_TIMEOUT_MS: { schema: int(1, 3_600_000), allowed: 'milliseconds 1..3600000' },
  METRICS_PORT: { schema: int(1, 65535), allowed: 'an integer port 1..65535, not equal to PORT' },
  METRICS_TOKEN: {
    schema: z.string().trim().min(8),
    allowed: 'a bearer token of at least 8 characters',
  },
  API_TOKEN_SECRET: {
    schema: z.string().trim().min(32),
    allowed: 'a random secret of at least 32 characters, e.g. from `openssl rand -hex 32`',
  },
  API_TOKEN_PREVIOUS_SECRET: {
    schema: z.string().trim().min(32),
    allowed: 'the previous API_TOKEN_SECRET (at least 32 characters), only while rotating',
  },
  RATE_LIMIT_MAX: { schema: int(1, 1_000_000), allowed: 'an integer 1..1000000' },
  RATE_LIMIT_WINDOW_MS: { schema: int(100, 86_400_000), allowed: 'milliseconds 100..86400000' },
  SNIPPET_CACHE_TTL_MS: { schema: int(1000, 86_400_000), allowed: 'milliseconds 1000..86400000' },
  TELEGRAM_DEDUPE_TTL_MS: {
    schema: int(1000, 7 * 86_400_000),
    allowed: 'milliseconds 1000..604800000',
  },
  CODEBOT_BENCH_DEFEAT_POOLING: {
    schema: z.literal('1'),
    allowed: '1 (benchmarks only: a Redis connection per command; refused when APP_ENV=production)',
  },
} as const;

/** Names of CodeBot's own environment variables. */
export type AppEnvVariable = keyof typeof APP_ENV_VARIABLES;

/** A bad variable, before its value is masked. */
export interface RawAppIssue {
  variable: string;
  given: string | undefined;
  allowed: string;
}

type Parsed = { [K in AppEnvVariable]?: z.output<(typeof APP_ENV_VARIABLES)[K]['schema']> };

/**
 * Validates CodeBot's own variables and derives defaults from the environment.
 * Returns every problem at once; the caller masks values and reports them together with the
 * pool libraries' issues.
 */
export function parseAppConfig(
  env: Readonly<Record<string, string | undefined>>,
  appEnv: CodebotEnv,
): { config?: AppConfig; issues: RawAppIssue[] } {
  const issues: RawAppIssue[] = [];
  const parsed: Parsed = {};
  for (const [name, { schema, allowed }] of Object.entries(APP_ENV_VARIABLES)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const result = schema.safeParse(raw);
    if (result.success) (parsed as Record<string, unknown>)[name] = result.data;
    else issues.push({ variable: name, given: raw, allowed });
  }

  const production = appEnv !== 'development';
  if (production && !env.TELEGRAM_BOT_TOKEN?.trim()) {
    issues.push({
      variable: 'TELEGRAM_BOT_TOKEN',
      given: undefined,
      allowed: `required when APP_ENV=${appEnv}: ${APP_ENV_VARIABLES.TELEGRAM_BOT_TOKEN.allowed}`,
    });
  }
  const reported = (name: string) => issues.some((issue) => issue.variable === name);
  if (production && !env.API_TOKEN_SECRET?.trim() && !reported('API_TOKEN_SECRET')) {
    issues.push({
      variable: 'API_TOKEN_SECRET',
      given: undefined,
      allowed: `required when APP_ENV=${appEnv} (it signs the REST API keys): ${APP_ENV_VARIABLES.API_TOKEN_SECRET.allowed}`,
    });
  }
  if (parsed.API_TOKEN_PREVIOUS_SECRET !== undefined && !env.API_TOKEN_SECRET?.trim()) {
    issues.push({
      variable: 'API_TOKEN_PREVIOUS_SECRET',
      given: env.API_TOKEN_PREVIOUS_SECRET,
      allowed: 'set only together with API_TOKEN_SECRET (the new secret that signs keys)',
    });
  }
  const port = parsed.PORT ?? 3000;
  const drain = parsed.SHUTDOWN_DRAIN_DELAY_MS ?? (production ? 5000 : 0);
  const timeout = parsed.SHUTDOWN_TIMEOUT_MS ?? 25_000;
  if (parsed.SHUTDOWN_DRAIN_DELAY_MS !== undefined && drain >= timeout) {
    issues.push({
      variable: 'SHUTDOWN_DRAIN_DELAY_MS',
      given: env.SHUTDOWN_DRAIN_DELAY_MS,
      allowed: `less than SHUTDOWN_TIMEOUT_MS (${timeout})`,
    });
  }
  if (parsed.METRICS_PORT !== undefined && parsed.METRICS_PORT === port && port !== 0) {
    issues.push({
      variable: 'METRICS_PORT',
      given: env.METRICS_PORT,
      allowed: `a port other than PORT (${port})`,
    });
  }
  if (parsed.CODEBOT_BENCH_DEFEAT_POOLING !== undefined && appEnv === 'production') {
    issues.push({
      variable: 'CODEBOT_BENCH_DEFEAT_POOLING',
      given: env.CODEBOT_BENCH_DEFEAT_POOLING,
      allowed: 'unset when APP_ENV=production (it turns connection reuse off, for benchmarks only)',
    });
  }
  if (issues.length > 0) return { issues };

  return {
    issues,
    config: {
      appEnv,
      port,
      telegramBotToken: parsed.TELEGRAM_BOT_TOKEN ?? DEVELOPMENT_BOT_TOKEN,
      telegramWebhookSecret: parsed.TELEGRAM_WEBHOOK_SECRET,
      telegramApiUrl: parsed.TELEGRAM_API_URL ?? TELEGRAM_PUBLIC_API_URL,
      githubApiUrl: parsed.GITHUB_API_URL ?? GITHUB_PUBLIC_API_URL,
      githubToken: parsed.GITHUB_TOKEN,
      shutdownDrainDelayMs: drain,
      shutdownTimeoutMs: timeout,
      metricsPort: parsed.METRICS_PORT,
      metricsToken: parsed.METRICS_TOKEN,
      apiTokenSecret: parsed.API_TOKEN_SECRET,
      apiTokenPreviousSecret: parsed.API_TOKEN_PREVIOUS_SECRET,
      rateLimitMax: parsed.RATE_LIMIT_MAX ?? 60,
      rateLimitWindowMs: parsed.RATE_LIMIT_WINDOW_MS ?? 60_000,
      snippetCacheTtlMs: parsed.SNIPPET_CACHE_TTL_MS ?? 300_000,
      updateDedupeTtlMs: parsed.TELEGRAM_DEDUPE_TTL_MS ?? 86_400_000,
      benchDefeatPooling: parsed.CODEBOT_BENCH_DEFEAT_POOLING !== undefined,
    },
  };
}
