import type { PoolValueExplanation } from './pool-config-context.js';
import type { PoolConfigExplanation } from './pool-definition.js';

/** A value as `config:explain` and the startup log line print it (already masked). */
export function formatExplainedValue(value: unknown): string {
  if (value === undefined) return '(not set)';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) {
    return value.length === 0 ? '(none)' : value.join(',');
  }
  return JSON.stringify(value);
}

function shortSource(row: PoolValueExplanation): string {
  return row.origin === 'preset' ? 'preset' : row.source;
}

/**
 * One line per pool for the startup log (debug level): every key that did not fall back to the
 * library default, with its source, then how many keys did.
 *
 * @example
 * summarizePoolConfig(MONGO_POOL_DEFINITION.explain(process.env))
 * // MongoDB pool "default" (APP_ENV=production): maxPoolSize=100 (preset), url=mongodb://***@db:27017 (env MONGODB_URL); 18 more at their defaults
 */
export function summarizePoolConfig(explanation: PoolConfigExplanation): string {
  const set = explanation.values.filter((r) => r.origin !== 'default' && r.source !== 'derived');
  const rest = explanation.values.length - set.length;
  const parts = set.map((r) => `${r.key}=${formatExplainedValue(r.value)} (${shortSource(r)})`);
  const head = `${explanation.label} pool "${explanation.name}" (APP_ENV=${explanation.appEnv})`;
  const body = parts.length === 0 ? 'every key at its default' : parts.join(', ');
  return `${head}: ${body}${parts.length > 0 && rest > 0 ? `; ${rest} more at their defaults` : ''}`;
}

function pad(rows: string[][]): string[] {
  const widths =
    rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The effective configuration of one or more pools as a plain-text table: for every key its env
 * variable, value (masked), source (option / env NAME as written / `APP_ENV` preset / default)
 * and the allowed range; then the issues that would fail startup, if any.
 */
export function formatPoolConfigExplanation(
  explanations: readonly PoolConfigExplanation[],
): string {
  const out: string[] = [];
  for (const e of explanations) {
    out.push(`${e.label} pool "${e.name}" (kind ${e.kind}, APP_ENV=${e.appEnv})`);
    const rows = [['key', 'variable', 'value', 'source', 'allowed']];
    for (const r of e.values) {
      rows.push([
        r.key,
        r.env ?? '(options only)',
        formatExplainedValue(r.value),
        r.source,
        r.allowed,
      ]);
    }
    out.push(...pad(rows).map((line) => `  ${line}`));
    if (e.issues.length > 0) {
      out.push(`  ${e.issues.length} issue(s) — startup would fail:`);
      for (const i of e.issues)
        out.push(`    ${i.variable}: given ${i.given}; allowed: ${i.allowed}`);
    }
    out.push('');
  }
  return out.join('\n');
}
