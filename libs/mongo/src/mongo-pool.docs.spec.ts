import { readFileSync } from 'node:fs';

import { type PoolVariableMeta } from '@nest-pools/core';

import { MONGO_POOL_ENV, parseMongoPoolConfig } from './config/index.js';
import { toMongoDriverOptions } from './config/mongo-pool.driver-options.js';

const docs = readFileSync(new URL('../../../docs/mongo.md', import.meta.url), 'utf8');

function cell(value: unknown): string {
  if (value === undefined) return '—';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return JSON.stringify(value);
}

function presets(meta: PoolVariableMeta): string {
  if (Object.keys(meta.presets).length === 0) return '—';
  return (['development', 'staging', 'production'] as const)
    .map((env) => cell(meta.presets[env] ?? meta.default))
    .join(' / ');
}

/** Rows of the hand-written options table (before the generated one): env, key, default, presets, goes-to. */
function documentedRows(): string[][] {
  return docs
    .slice(0, docs.indexOf('<!-- generated:config mongo -->'))
    .split('\n')
    .filter((line) => line.startsWith('| `MONGODB_'))
    .map((line) =>
      line
        .split('|')
        .slice(1, 6)
        .map((c) => c.trim()),
    );
}

describe('docs/mongo.md options table', () => {
  it('lists every variable of the schema once, with its key, default and presets', () => {
    const expected = MONGO_POOL_ENV.map((meta) => [
      `\`${meta.env}\``,
      `\`${meta.key}\``,
      cell(meta.default),
      presets(meta),
    ]);
    expect(documentedRows().map((row) => row.slice(0, 4))).toEqual(expected);
  });

  it('says which options go to the driver, matching the options the module passes', () => {
    const driverKeys = Object.keys(
      toMongoDriverOptions(parseMongoPoolConfig({ MONGODB_APPNAME: 'x' }), {
        hasBuiltInZstd: () => false,
        resolve: () => '',
      }),
    );
    for (const [, key, , , goesTo] of documentedRows()) {
      const name = key!.replaceAll('`', '');
      const expected = name === 'url' || driverKeys.includes(name) ? 'MongoClient' : 'module';
      expect({ name, goesTo }).toEqual({ name, goesTo: expected });
    }
  });
});
