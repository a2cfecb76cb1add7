import { APP_ENVS } from './app-env.js';
import type { PoolDefinition } from './pool-definition.js';
import type { PoolVariableMeta } from './pool-field.js';

const UNIT_TEXT: Readonly<Record<PoolVariableMeta['unit'], string>> = {
  count: 'count',
  milliseconds: 'ms',
  seconds: 's → ms',
  boolean: 'boolean',
  url: 'URL',
  text: 'text',
  enum: 'word',
  list: 'comma list',
  'host-list': 'host:port list',
};

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function formatValue(meta: PoolVariableMeta, value: unknown): string {
  if (value === undefined) return '—';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : `\`${value.join(',')}\``;
  if (typeof value === 'number' && (meta.unit === 'seconds' || meta.unit === 'milliseconds')) {
    return `${value} ms`;
  }
  if (typeof value === 'string') return `\`${value}\``;
  return JSON.stringify(value);
}

function envCell(meta: PoolVariableMeta): string {
  if (meta.env === undefined) return '(options only)';
  const aliases = meta.aliases.map((a) => `\`${a}\``).join(', ');
  return `\`${meta.env}\`${aliases === '' ? '' : ` (${meta.aliases.length === 1 ? 'alias' : 'aliases'} ${aliases})`}`;
}

function presetCell(meta: PoolVariableMeta): string {
  if (Object.keys(meta.presets).length === 0) return '—';
  return APP_ENVS.map((appEnv) => formatValue(meta, meta.presets[appEnv] ?? meta.default)).join(
    ' / ',
  );
}

/**
 * The Markdown reference table of one pool kind, as it appears in docs/configuration.md: env
 * name and aliases, option key, env unit, default, presets (development / staging / production),
 * allowed values and meaning.
 */
export function renderPoolVariableTable(definition: Pick<PoolDefinition, 'variables'>): string {
  const rows = definition.variables.map((meta) =>
    [
      envCell(meta),
      `\`${meta.key}\``,
      UNIT_TEXT[meta.unit],
      formatValue(meta, meta.default),
      presetCell(meta),
      cell(meta.env === undefined ? meta.allowedOption : meta.allowed) +
        (meta.secret ? ' (secret)' : ''),
      cell(meta.description),
    ].join(' | '),
  );
  return [
    '| Env variable | Option key | Env unit | Default | Presets (dev / staging / prod) | Allowed | Meaning |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row} |`),
  ].join('\n');
}

/** The alias table of docs/configuration.md over several pool kinds: alias → canonical name → option key, in precedence order. */
export function renderAliasTable(
  definitions: readonly Pick<PoolDefinition, 'variables'>[],
): string {
  const rows = definitions
    .flatMap((d) => d.variables)
    .flatMap((meta) =>
      meta.aliases.map(
        (alias, i) =>
          `| \`${alias}\` | \`${meta.env ?? ''}\` | \`${meta.key}\` | ${i + 2} (after \`${meta.env ?? ''}\`${i > 0 ? `, \`${meta.aliases.slice(0, i).join('`, `')}\`` : ''}) |`,
      ),
    );
  return [
    '| Alias | Canonical variable | Option key | Precedence |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}
