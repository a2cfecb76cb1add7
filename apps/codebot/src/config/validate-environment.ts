import {
  collectPoolConfigIssues,
  type ConfigIssue,
  ConfigValidationError,
  type EnvSource,
  inspectAppEnv,
  redactEnvValue,
} from '@nest-pools/core';
import { HTTP_POOL_DEFINITION } from '@nest-pools/http';
import { MONGO_POOL_DEFINITION } from '@nest-pools/mongo';
import { REDIS_POOL_DEFINITION } from '@nest-pools/redis';

import { parseTracingConfig } from '../tracing/tracing-config.js';
import { type AppConfig, parseAppConfig } from './app-config.js';

/** The validated environment: CodeBot's settings; pools re-read theirs through their modules. */
export interface ValidatedEnvironment {
  config: AppConfig;
}

function given(name: string, value: string | undefined): string {
  return value === undefined ? '(not set)' : JSON.stringify(redactEnvValue(name, value));
}

/**
 * Checks every variable CodeBot reads — its own, the `OTEL_*` ones of tracing and the three
 * pools' — and throws one {@link ConfigValidationError} listing every problem, values masked.
 * `APP_ENV=production` (and staging) requires `MONGODB_URL` and `REDIS_URL`: the embedded servers are development-only.
 */
export function validateEnvironment(env: EnvSource): ValidatedEnvironment {
  const { appEnv, issue: appEnvIssue } = inspectAppEnv(env);
  const issues: ConfigIssue[] = appEnvIssue ? [appEnvIssue] : [];

  const app = parseAppConfig(env, appEnv);
  for (const raw of [...app.issues, ...parseTracingConfig(env).issues]) {
    issues.push({
      variable: raw.variable,
      given: given(raw.variable, raw.given),
      allowed: raw.allowed,
    });
  }
  for (const poolIssue of collectPoolConfigIssues(
    env,
    [MONGO_POOL_DEFINITION, REDIS_POOL_DEFINITION, HTTP_POOL_DEFINITION],
    {
      requireUrlInProduction: true,
    },
  )) {
    if (poolIssue.variable === 'APP_ENV' && appEnvIssue) continue;
    issues.push(poolIssue);
  }
  if (appEnv !== 'development') {
    for (const name of ['MONGODB_URL', 'REDIS_URL'] as const) {
      const value = env[name];
      const alreadyReported = issues.some((i) => i.variable === name);
      const clusterOrSentinel =
        name === 'REDIS_URL' && (env.REDIS_CLUSTER_NODES || env.REDIS_SENTINELS);
      if ((value === undefined || value.trim() === '') && !alreadyReported && !clusterOrSentinel) {
        issues.push({
          variable: name,
          given: '(not set)',
          allowed: `required when APP_ENV=${appEnv}: the ${name === 'MONGODB_URL' ? 'mongodb:// or mongodb+srv://' : 'redis:// or rediss://'} URL of your server`,
        });
      }
    }
  }
  if (issues.length > 0 || !app.config) {
    throw ConfigValidationError.fromIssues(issues, `CodeBot cannot start (APP_ENV=${appEnv})`);
  }
  return { config: app.config };
}
