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

/** Id of a generated docs section: a pool kind (`mongo`) or `aliases`. */
export type GeneratedSectionId = string;

const SECTION_PATTERN = /(<!-- generated:config ([a-z0-9-]+) -->)([\s\S]*?)(<!-- \/generated -->)/g;

/**
 * The Markdown of every generated docs section over some pool definitions: one variable table
 * per kind (keyed by `definition.kind`) and the alias table of them all (`aliases`). The docs
 * generator writes them and the stale check compares against them, so both render the same.
 */
export function renderConfigReferenceSections(
  definitions: readonly Pick<PoolDefinition, 'kind' | 'variables'>[],
): Record<GeneratedSectionId, string> {
  const sections: Record<GeneratedSectionId, string> = {};
  for (const definition of definitions) {
    sections[definition.kind] = renderPoolVariableTable(definition);
  }
  sections.aliases = renderAliasTable(definitions);
  return sections;
}

/** The ids of the generated sections of a Markdown page, in page order. */
export function generatedSectionIds(markdown: string): GeneratedSectionId[] {
  return [...markdown.matchAll(SECTION_PATTERN)].map((m) => m[2] ?? '');
}

/** What stands between the markers of section `id` (trimmed), or `undefined` without them. */
export function readGeneratedSection(markdown: string, id: GeneratedSectionId): string | undefined {
  for (const m of markdown.matchAll(SECTION_PATTERN)) {
    if (m[2] === id) return (m[3] ?? '').trim();
  }
  return undefined;
}

/**
 * Replaces what stands between `<!-- generated:config <id> -->` and the next
 * `<!-- /generated -->` with `content` (blank lines around it, so Markdown sees a table).
 *
 * @throws Error when the page has no such markers (add them where the section belongs)
 */
export function replaceGeneratedSection(
  markdown: string,
  id: GeneratedSectionId,
  content: string,
): string {
  let found = false;
  const result = markdown.replace(
    SECTION_PATTERN,
    (whole, open: string, name: string, _body: string, close: string) => {
      if (name !== id) return whole;
      found = true;
      return `${open}\n\n${content.trim()}\n\n${close}`;
    },
  );
  if (!found) {
    throw new Error(
      `No generated section "${id}": add <!-- generated:config ${id} --> and <!-- /generated --> where it belongs`,
    );
  }
  return result;
}

/**
 * Rewrites every generated section found in a page from `sections`.
 *
 * @throws Error when the page names a section that `sections` does not have
 */
export function replaceGeneratedSections(
  markdown: string,
  sections: Readonly<Record<GeneratedSectionId, string>>,
): string {
  let result = markdown;
  for (const id of generatedSectionIds(markdown)) {
    const content = sections[id];
    if (content === undefined) {
      throw new Error(
        `Unknown generated section "${id}"; known: ${Object.keys(sections).join(', ')}`,
      );
    }
    result = replaceGeneratedSection(result, id, content);
  }
  return result;
}

/** Table rows without padding, so a comparison survives Prettier aligning the columns. */
function normalizeTables(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line.replace(/\s*\|\s*/g, '|').replace(/\|:?-+:?(?=\|)/g, '|---')
        : line.trimEnd(),
    )
    .join('\n')
    .trim();
}

/**
 * The ids of the generated sections of a page whose content differs from `sections` (column
 * padding aside); an empty list means the page is current.
 */
export function staleGeneratedSections(
  markdown: string,
  sections: Readonly<Record<GeneratedSectionId, string>>,
): GeneratedSectionId[] {
  return generatedSectionIds(markdown).filter((id) => {
    const expected = sections[id];
    const actual = readGeneratedSection(markdown, id);
    return (
      expected === undefined ||
      actual === undefined ||
      normalizeTables(actual) !== normalizeTables(expected)
    );
  });
}
