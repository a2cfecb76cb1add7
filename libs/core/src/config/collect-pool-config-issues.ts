import type { EnvSource } from './app-env.js';
import type { ConfigIssue } from './config-issue.interface.js';
import { HTTP_POOL_SPEC } from './http-pool.config.js';
import { MONGO_POOL_SPEC } from './mongo-pool.config.js';
import { inspectPoolConfig } from './parse-pool-config.js';
import type { PoolConfigParseFlags } from './pool-config-context.js';
import type { PoolKind } from './pool-field.js';
import { REDIS_POOL_SPEC } from './redis-pool.config.js';

const SPECS = { mongo: MONGO_POOL_SPEC, redis: REDIS_POOL_SPEC, http: HTTP_POOL_SPEC } as const;

/**
 * Checks the env variables of several pool kinds at once and returns every issue (an unknown
 * `APP_ENV` is listed once), for applications that validate their environment at startup.
 *
 * @example
 * const issues = collectPoolConfigIssues(process.env, ['mongo', 'redis', 'http'], { requireUrlInProduction: true });
 * if (issues.length > 0) throw ConfigValidationError.fromIssues(issues, 'Invalid environment');
 */
export function collectPoolConfigIssues(
  env: EnvSource,
  kinds: readonly PoolKind[],
  flags: PoolConfigParseFlags = {},
): ConfigIssue[] {
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const kind of new Set(kinds)) {
    for (const issue of inspectPoolConfig(SPECS[kind], env, undefined, flags).issues) {
      const id = `${issue.variable}\u0000${issue.given}\u0000${issue.allowed}`;
      if (seen.has(id)) continue;
      seen.add(id);
      issues.push(issue);
    }
  }
  return issues;
}
