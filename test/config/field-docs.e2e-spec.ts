// The JSDoc of each field-map entry is what an IDE shows on the derived config and option types;
// its `@default` must say what the parser really does. Read from the source, checked against the
// field's own default, so a comment can no longer drift from the value beside it.
import { readFileSync } from 'node:fs';

import type { PoolFields } from '@nest-pools/core';
import { HTTP_POOL_FIELDS } from '@nest-pools/http';
import { MONGO_POOL_FIELDS } from '@nest-pools/mongo';
import { REDIS_POOL_FIELDS } from '@nest-pools/redis';

// The file of each field map, then the files of the blocks spread into it.
const FILES: Array<[string, PoolFields, string[]]> = [
  ['libs/mongo/src/config/mongo-pool.fields.ts', MONGO_POOL_FIELDS, []],
  ['libs/redis/src/config/redis-pool.fields.ts', REDIS_POOL_FIELDS, []],
  [
    'libs/http/src/config/http-pool.fields.ts',
    HTTP_POOL_FIELDS,
    ['libs/http/src/config/http-pool.tls-config.ts'],
  ],
];

/** `@default` text per key: the JSDoc block right before `  key: ` at the map's top level. */
function documentedDefaults(source: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const m of source.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\n {2}(\w+):/g)) {
    const tag = /@default\s+(.+)/.exec(m[1] ?? '');
    out.set(m[2] ?? '', tag?.[1]?.trim());
  }
  return out;
}

/** The field default as the JSDoc writes it: `100`, `'text'`, `true`, `[]`, `undefined`. */
function written(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `'${value}'`;
  return JSON.stringify(value);
}

describe.each(FILES)('%s', (file, fields, blocks) => {
  const docs = new Map(
    [file, ...blocks].flatMap((path) => [
      ...documentedDefaults(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')),
    ]),
  );

  it.each(Object.keys(fields))('%s has JSDoc whose @default is the field default', (key) => {
    expect(docs.has(key)).toBe(true);
    // A JSDoc default may add words after the value ("200 (the env value is in seconds)").
    const doc = docs.get(key) ?? '(no @default tag)';
    expect(doc.split(/\s+\(/)[0]).toBe(written(fields[key]?.default));
  });
});
