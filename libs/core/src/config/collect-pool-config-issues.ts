import type { EnvSource } from './app-env.js';
import type { ConfigIssue } from './config-issue.interface.js';
import type { PoolConfigParseFlags } from './pool-config-context.js';
import type { PoolDefinition } from './pool-definition.js';

/**
 * Checks the env variables of several pools at once and returns every issue (an unknown
 * `APP_ENV` is listed once), for applications that validate their environment at startup.
 *
 * @example
 * const issues = collectPoolConfigIssues(process.env, [MONGO_POOL_DEFINITION, REDIS_POOL_DEFINITION], {
 *   requireUrlInProduction: true,
 * });
 * if (issues.length > 0) throw ConfigValidationError.fromIssues(issues, 'Invalid environment');
 */
export function collectPoolConfigIssues(
  env: EnvSource,
  definitions: readonly PoolDefinition[],
  flags: PoolConfigParseFlags = {},
): ConfigIssue[] {
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const definition of new Set(definitions)) {
    for (const issue of definition.inspect(env, undefined, flags).issues) {
      const id = `${issue.variable}\u0000${issue.given}\u0000${issue.allowed}`;
      if (seen.has(id)) continue;
      seen.add(id);
      issues.push(issue);
    }
  }
  return issues;
}
