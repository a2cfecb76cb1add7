import type { ConfigIssue } from '../config/config-issue.interface.js';

/** Shown with every configuration error: where to look next. */
export const CONFIG_DOCS_HINT =
  'Fix each variable listed (in the environment or the module options) and start again; ' +
  'every variable, its unit and its allowed range is described in docs/configuration.md.';

function poolLabel(poolName: string | undefined): string {
  return poolName === undefined ? 'Pool' : `Pool "${poolName}"`;
}

/** One configuration issue as a message line: `  - VAR = "given"; allowed: …`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  return `  - ${issue.variable} = ${issue.given}; allowed: ${issue.allowed}`;
}

/**
 * Message of a {@link ConfigValidationError}: the title with the number of problems, one line per
 * issue, and what to do next.
 */
export function configValidationMessage(title: string, issues: readonly ConfigIssue[]): string {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return [`${title} (${count}):`, ...issues.map(formatConfigIssue), CONFIG_DOCS_HINT].join('\n');
}

/** Title of a configuration error for one pool kind and name. */
export function configValidationTitle(kind: string, poolName: string): string {
  return `Invalid configuration of ${kind} pool "${poolName}"`;
}

/**
 * Message of a {@link PoolTimeoutError}.
 *
 * @param operation what timed out, e.g. `acquiring a dedicated connection`
 * @param timeoutMs the limit in milliseconds
 * @param next what to do next; a generic hint when omitted
 */
export function poolTimeoutMessage(opts: {
  poolName?: string;
  operation: string;
  timeoutMs: number;
  limit?: string;
  next?: string;
}): string {
  const limit = opts.limit === undefined ? '' : ` (${opts.limit})`;
  const next =
    opts.next ??
    'Check that the server is reachable and not saturated (pool metrics show waiting requests), ' +
      'or raise the limit if the work legitimately takes longer.';
  return `${poolLabel(opts.poolName)}: ${opts.operation} timed out after ${opts.timeoutMs} ms${limit}. ${next}`;
}

/** Message of a {@link PoolClosedError}. */
export function poolClosedMessage(opts: { poolName?: string; operation?: string }): string {
  const op = opts.operation === undefined ? 'the request' : opts.operation;
  return (
    `${poolLabel(opts.poolName)} is closed (the application is shutting down); ${op} was refused. ` +
    'Stop sending work before shutdown begins (readiness turns 503 first), or create a new ' +
    'application context.'
  );
}

/** Message of a {@link ConfigSourceMissingError}: which module needs `ConfigModule` and how to add it. */
export function configSourceMissingMessage(
  label: string,
  poolName: string,
  module: string,
): string {
  return (
    `${label} pool "${poolName}": ${module}.forRootAsync() without options reads its variables ` +
    'through ConfigService, but the application has no ConfigModule. Add ' +
    "ConfigModule.forRoot() (from '@nestjs/config') to the root module's imports, or pass " +
    `explicit options: ${module}.forRoot({ ... }) or forRootAsync({ useFactory }).`
  );
}

/** Message of a `PoolNotFoundError`: the name asked for, the registered ones, what to import. */
export function unknownPoolMessage(
  label: string,
  poolName: string,
  known: readonly string[],
): string {
  const list = known.length === 0 ? 'none' : known.map((n) => `"${n}"`).join(', ');
  return (
    `${label} pool "${poolName}" does not exist (registered: ${list}). Import its module ` +
    `with { name: '${poolName}' } (forRoot / forRootAsync) in a module this code can see.`
  );
}

/** Message when two pool modules of one kind share a name. */
export function duplicatePoolMessage(label: string, poolName: string): string {
  return (
    `Two ${label} pools are named "${poolName}". Give each forRoot()/forRootAsync() its own ` +
    '{ name } (pools with different names never share connections).'
  );
}

/** Message of a `PoolUnavailableError`: which pool, since when, when the next trial goes out. */
export function poolUnavailableMessage(
  system: string,
  poolName: string,
  since: number,
  retryAfterSeconds: number,
): string {
  return (
    `${system} pool "${poolName}" is unavailable: its circuit breaker opened at ` +
    `${new Date(since).toISOString()} after repeated connection failures or timeouts, so calls ` +
    `fail at once. A trial call goes out in ${retryAfterSeconds} s; answer 503 with ` +
    `Retry-After: ${retryAfterSeconds} meanwhile, and check the server's health.`
  );
}
