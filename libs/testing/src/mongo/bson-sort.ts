import type { Document } from 'bson';

import type { StringCompare } from './bson-values.js';
import { compareBson, toJsNumber } from './bson-values.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import { valuesAt } from './query-view.js';

/**
 * The value a document sorts by on one field, as mongod picks it: the smallest (ascending) or
 * largest (descending) of the values the path reaches, array elements included; a missing field
 * sorts as null and an empty array just below it.
 */
export function sortKey(doc: Document, path: string, direction: 1 | -1, strings?: StringCompare) {
  const candidates: unknown[] = [];
  let sawEmptyArray = false;
  for (const value of valuesAt(doc, path.split('.'))) {
    if (Array.isArray(value)) {
      if (value.length === 0) sawEmptyArray = true;
      candidates.push(...(value as unknown[]));
    } else {
      candidates.push(value);
    }
  }
  if (candidates.length === 0) return sawEmptyArray ? undefined : null;
  return candidates.reduce((best, v) => (compareBson(v, best, strings) * direction < 0 ? v : best));
}

/** Parses a sort document into `[path, direction]` pairs (`$natural` keeps insertion order). */
export function parseSort(sort: Document): Array<[string, 1 | -1]> {
  const fields: Array<[string, 1 | -1]> = [];
  for (const [path, raw] of Object.entries(sort)) {
    if (path === '$natural') continue;
    const n = toJsNumber(raw);
    if (n !== 1 && n !== -1) {
      throw new CommandError(
        MongoErrorCode.Location15975,
        `$sort key ordering must be 1 (for ascending) or -1 (for descending)`,
      );
    }
    fields.push([path, n]);
  }
  return fields;
}

/** Sorts documents (stable) by a sort document, with mongod's BSON order. */
export function sortDocuments(
  docs: Document[],
  sort: Document,
  strings?: StringCompare,
): Document[] {
  const fields = parseSort(sort);
  if (fields.length === 0) return docs;
  const keyed = docs.map((doc) => ({
    doc,
    keys: fields.map(([path, dir]) => sortKey(doc, path, dir, strings)),
  }));
  keyed.sort((x, y) => {
    for (const [i, [, dir]] of fields.entries()) {
      const c = compareBson(x.keys[i], y.keys[i], strings);
      if (c !== 0) return c * dir;
    }
    return 0;
  });
  return keyed.map((k) => k.doc);
}
