import { ConfigValidationError } from '../errors/config-validation.error.js';
import { configValidationTitle } from '../errors/messages.js';
import type { EnvSource } from './app-env.js';
import type { ConfigIssue } from './config-issue.interface.js';
import {
  PoolConfigContext,
  type PoolConfigParseFlags,
  type PoolSpec,
} from './pool-config-context.js';

const KIND_LABEL = { mongo: 'MongoDB', redis: 'Redis', http: 'HTTP' } as const;

/** Runs every rule of `spec` and returns the issues without throwing. */
export function inspectPoolConfig(
  spec: PoolSpec,
  env: EnvSource,
  options: unknown,
  flags: PoolConfigParseFlags = {},
): { config: Record<string, unknown>; issues: ConfigIssue[]; name: string } {
  const ctx = new PoolConfigContext(spec, env, options, flags);
  return { config: ctx.result(), issues: ctx.issues, name: ctx.name };
}

/** Resolves the config of `spec` or throws one {@link ConfigValidationError} with every issue. */
export function parsePoolConfig(
  spec: PoolSpec,
  env: EnvSource,
  options: unknown,
  flags: PoolConfigParseFlags = {},
): Record<string, unknown> {
  const { config, issues, name } = inspectPoolConfig(spec, env, options, flags);
  if (issues.length > 0) {
    throw ConfigValidationError.fromIssues(
      issues,
      configValidationTitle(KIND_LABEL[spec.kind], name),
      {
        poolName: name,
        context: { kind: spec.kind },
      },
    );
  }
  return config;
}
