import { z } from 'zod';

import { ConfigValidationError } from '../errors/config-validation.error.js';
import { redactEnvValue } from '../redaction/redaction.js';
import type { ConfigIssue } from './config-issue.interface.js';

/** The environments that select a preset. */
export const APP_ENVS = ['development', 'staging', 'production'] as const;

/** Deployment environment that selects a preset: `APP_ENV`, else `NODE_ENV`, else development. */
export type AppEnv = (typeof APP_ENVS)[number];

/**
 * Where env variables are read from: `process.env`, a `ConfigService`-backed record, or a plain
 * object in tests.
 */
export type EnvSource = Readonly<Record<string, string | undefined>>;

const appEnvSchema = z.string().trim().toLowerCase().pipe(z.enum(APP_ENVS));

/** Result of reading `APP_ENV`/`NODE_ENV`: the environment and, when `APP_ENV` is unknown, the issue. */
export interface AppEnvInspection {
  /** The environment presets are taken from (development when `APP_ENV` is invalid). */
  appEnv: AppEnv;
  /** The problem with `APP_ENV`, when there is one. */
  issue?: ConfigIssue;
}

/**
 * Reads the environment without throwing: `APP_ENV` (case-insensitive) when it is set, else
 * `NODE_ENV` when it names one of the three environments (so `NODE_ENV=test` falls through), else
 * `development`. An unknown `APP_ENV` is reported as an issue and development is assumed so that
 * the remaining variables can still be checked.
 */
export function inspectAppEnv(env: EnvSource): AppEnvInspection {
  const appEnv = env.APP_ENV;
  if (appEnv !== undefined && appEnv.trim() !== '') {
    const parsed = appEnvSchema.safeParse(appEnv);
    if (parsed.success) return { appEnv: parsed.data };
    return {
      appEnv: 'development',
      issue: {
        variable: 'APP_ENV',
        given: JSON.stringify(redactEnvValue('APP_ENV', appEnv)),
        allowed: `one of ${APP_ENVS.join(', ')} (or unset: NODE_ENV, else development)`,
      },
    };
  }
  const nodeEnv = appEnvSchema.safeParse(env.NODE_ENV ?? '');
  return { appEnv: nodeEnv.success ? nodeEnv.data : 'development' };
}

/**
 * The environment whose preset applies: `APP_ENV`, else `NODE_ENV` when it is one of
 * development | staging | production, else `development`.
 *
 * @throws ConfigValidationError when `APP_ENV` is set to anything else
 * @example resolveAppEnv(process.env) // 'production'
 */
export function resolveAppEnv(env: EnvSource): AppEnv {
  const { appEnv, issue } = inspectAppEnv(env);
  if (issue) throw ConfigValidationError.fromIssues([issue], 'Invalid APP_ENV');
  return appEnv;
}
