import type { Document } from 'bson';
import { Binary, Decimal128, Double, EJSON, Int32, Long, ObjectId } from 'bson';

/**
 * BSON values as the wire server keeps them: decoded without promotion, so an int32, an int64, a
 * double and a decimal128 stay distinct (`Int32`, `Long`, `Double`, `Decimal128` objects) from
 * the request to the reply. This module names their types, compares them in mongod's order and
 * does mongod's arithmetic on them.
 */

/** `deserialize` options that keep every BSON type exactly. */
export const EXACT_BSON = { promoteValues: false, promoteLongs: false, promoteBuffers: false };

/** A BSON number in any of its four types. */
export type BsonNumber = Int32 | Long | Double | Decimal128;

/** mongod's type aliases (`$type`, error messages) by BSON type number. */
const TYPE_ALIASES: Record<number, string> = {
  1: 'double',
  2: 'string',
  3: 'object',
  4: 'array',
  5: 'binData',
  6: 'undefined',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  10: 'null',
  11: 'regex',
  12: 'dbPointer',
  13: 'javascript',
  14: 'symbol',
  15: 'javascriptWithScope',
  16: 'int',
  17: 'timestamp',
  18: 'long',
  19: 'decimal',
  [-1]: 'minKey',
  127: 'maxKey',
};

const TYPE_NUMBERS = new Map(Object.entries(TYPE_ALIASES).map(([n, alias]) => [alias, Number(n)]));

const BSONTYPE_NUMBERS: Record<string, number> = {
  Int32: 16,
  Long: 18,
  Double: 1,
  Decimal128: 19,
  ObjectId: 7,
  Binary: 5,
  Timestamp: 17,
  BSONRegExp: 11,
  Code: 13,
  BSONSymbol: 14,
  MinKey: -1,
  MaxKey: 127,
  DBRef: 3,
};

function bsonTag(value: object): string | undefined {
  const tag: unknown = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

/** The BSON type number of a value (1 double, 2 string, 16 int, 18 long…); 6 for `undefined`. */
export function bsonTypeNumber(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 2;
    case 'boolean':
      return 8;
    case 'number':
      return Number.isInteger(value) && Math.abs(value) <= 0x7fffffff ? 16 : 1;
    case 'bigint':
      return 18;
    case 'undefined':
      return 6;
    default:
  }
  if (value === null) return 10;
  if (Array.isArray(value)) return 4;
  if (value instanceof Date) return 9;
  if (value instanceof RegExp) return 11;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return 5;
  if (typeof value === 'object') {
    const tag = bsonTag(value);
    if (tag === 'Code') return (value as { scope?: unknown }).scope ? 15 : 13;
    return (tag !== undefined ? BSONTYPE_NUMBERS[tag] : undefined) ?? 3;
  }
  return 3;
}

/** mongod's name of a value's type (`int`, `long`, `string`…), as in its error messages. */
export function bsonTypeName(value: unknown): string {
  return TYPE_ALIASES[bsonTypeNumber(value)] ?? 'object';
}

/**
 * The BSON type numbers a `$type` argument names (`'number'` is every numeric type).
 * Returns undefined for an unknown alias or code.
 */
export function typeNumbersOf(spec: unknown): number[] | undefined {
  if (spec === 'number') return [1, 16, 18, 19];
  const code = typeof spec === 'string' ? TYPE_NUMBERS.get(spec) : toJsNumber(spec);
  return code !== undefined && TYPE_ALIASES[code] !== undefined ? [code] : undefined;
}

/** True for the four numeric types (JS numbers included). */
export function isBsonNumber(value: unknown): value is BsonNumber | number {
  const t = bsonTypeNumber(value);
  return t === 1 || t === 16 || t === 18 || t === 19;
}

/** A numeric value as a JS number (approximate for large int64 and decimals); else undefined. */
export function toJsNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof Int32 || value instanceof Double) return value.value;
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Decimal128) return Number(value.toString());
  return undefined;
}

/** A numeric value in the form JS compares exactly: int64 as a bigint, the rest as numbers. */
function exactNumber(value: unknown): number | bigint {
  if (value instanceof Long) return BigInt(value.toString());
  return toJsNumber(value) ?? Number.NaN;
}

/** Numeric order of mongod: NaN first and equal to NaN, then numerically across types. */
export function compareNumbers(a: unknown, b: unknown): number {
  const x = exactNumber(a);
  const y = exactNumber(b);
  const xNaN = typeof x === 'number' && Number.isNaN(x);
  const yNaN = typeof y === 'number' && Number.isNaN(y);
  if (xNaN || yNaN) return xNaN === yNaN ? 0 : xNaN ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Rank of a type in mongod's comparison order (numbers share one rank, strings and symbols). */
function canonicalRank(type: number): number {
  switch (type) {
    case -1:
      return -1; // minKey
    case 6:
      return 0; // undefined
    case 10:
      return 5; // null
    case 1:
    case 16:
    case 18:
    case 19:
      return 10;
    case 2:
    case 14:
      return 15;
    case 3:
      return 20;
    case 4:
      return 25;
    case 5:
      return 30;
    case 7:
      return 35;
    case 8:
      return 40;
    case 9:
      return 45;
    case 17:
      return 47;
    case 11:
      return 50;
    case 12:
      return 55;
    case 13:
      return 60;
    case 15:
      return 65;
    default:
      return 127; // maxKey
  }
}

/** Compares two strings; the default is mongod's binary (UTF-8 byte) order. */
export type StringCompare = (a: string, b: string) => number;

const binaryCompare: StringCompare = (a, b) =>
  a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** A string comparison for a `collation` document (`simple` or none: binary order). */
export function collationCompare(collation: Document | undefined): StringCompare {
  const locale: unknown = collation?.locale;
  if (typeof locale !== 'string' || locale === 'simple') return binaryCompare;
  const strength = toJsNumber(collation?.strength) ?? 3;
  const sensitivity = strength <= 1 ? 'base' : strength === 2 ? 'accent' : 'variant';
  const caseFirst: unknown = collation?.caseFirst;
  const collator = new Intl.Collator(locale, {
    sensitivity,
    numeric: collation?.numericOrdering === true,
    caseFirst: caseFirst === 'upper' || caseFirst === 'lower' ? caseFirst : 'false',
  });
  return (a, b) => collator.compare(a, b);
}

function bytesOf(value: unknown): Buffer {
  if (value instanceof Binary) return Buffer.from(value.buffer);
  if (value instanceof Uint8Array) return Buffer.from(value);
  return Buffer.alloc(0);
}

function compareEntries(a: [string, unknown][], b: [string, unknown][], strings: StringCompare) {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const [ka, va] = a[i] as [string, unknown];
    const [kb, vb] = b[i] as [string, unknown];
    const byType = canonicalRank(bsonTypeNumber(va)) - canonicalRank(bsonTypeNumber(vb));
    if (byType !== 0) return Math.sign(byType);
    const byName = binaryCompare(ka, kb);
    if (byName !== 0) return byName;
    const byValue = compareBson(va, vb, strings);
    if (byValue !== 0) return byValue;
  }
  return Math.sign(a.length - b.length);
}

/**
 * mongod's BSON comparison (`woCompare`): first by canonical type order (minKey < null <
 * numbers < strings < objects < arrays < binData < objectId < bool < date < timestamp <
 * regex < maxKey), then by value; numbers compare numerically across int/long/double/decimal.
 */
export function compareBson(a: unknown, b: unknown, strings = binaryCompare): number {
  const ta = bsonTypeNumber(a);
  const tb = bsonTypeNumber(b);
  const byRank = canonicalRank(ta) - canonicalRank(tb);
  if (byRank !== 0) return Math.sign(byRank);
  switch (canonicalRank(ta)) {
    case 10:
      return compareNumbers(a, b);
    case 15:
      return strings(String(a), String(b));
    case 20:
      return compareEntries(Object.entries(a as Document), Object.entries(b as Document), strings);
    case 25:
      return compareEntries(
        (a as unknown[]).map((v, i) => [String(i), v]),
        (b as unknown[]).map((v, i) => [String(i), v]),
        strings,
      );
    case 30: {
      const [x, y] = [bytesOf(a), bytesOf(b)];
      if (x.length !== y.length) return Math.sign(x.length - y.length);
      const subtype = ((a as Binary).sub_type ?? 0) - ((b as Binary).sub_type ?? 0);
      return subtype !== 0 ? Math.sign(subtype) : Buffer.compare(x, y);
    }
    case 35:
      return Buffer.compare(Buffer.from((a as ObjectId).id), Buffer.from((b as ObjectId).id));
    case 40:
    case 45:
      return Math.sign(Number(a) - Number(b));
    case 47:
      return (a as Long).compare(b as Long);
    case 50: {
      const [x, y] = [a as RegExp, b as RegExp];
      return binaryCompare(x.source, y.source) || binaryCompare(x.flags, y.flags);
    }
    case 60:
    case 65:
      return binaryCompare(
        String((a as { code: unknown }).code),
        String((b as { code: unknown }).code),
      );
    default:
      return 0;
  }
}

/**
 * A string equal for values mongod's comparison holds equal (int 1, long 1, 1.0 and decimal 1
 * give one key), used for unique-index keys and `distinct`.
 */
export function canonicalKey(value: unknown): string {
  return EJSON.stringify({ k: normalizeNumbers(value) }, { relaxed: false });
}

function normalizeNumbers(value: unknown): unknown {
  if (isBsonNumber(value)) {
    const exact = exactNumber(value);
    if (typeof exact === 'bigint') return `#n${exact.toString()}`;
    if (Number.isInteger(exact)) return `#n${BigInt(exact).toString()}`;
    return `#n${String(exact)}`;
  }
  if (Array.isArray(value)) return value.map(normalizeNumbers);
  if (value !== null && typeof value === 'object' && bsonTag(value) === undefined) {
    if (value instanceof Date || value instanceof RegExp) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeNumbers(v)]));
  }
  return value;
}

/** Renders a value the way mongod prints BSON elements in messages (`1`, `"x"`, `{ a: 1 }`). */
export function renderBson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Int32 || value instanceof Double) return String(value.value);
  if (value instanceof Long) return value.toString();
  if (value instanceof Decimal128) return value.toString();
  if (value instanceof ObjectId) return `ObjectId('${value.toHexString()}')`;
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (Array.isArray(value)) return value.length ? `[ ${value.map(renderBson).join(', ')} ]` : '[]';
  if (typeof value === 'object' && bsonTag(value) === undefined) {
    const parts = Object.entries(value).map(([k, v]) => `${k}: ${renderBson(v)}`);
    return parts.length ? `{ ${parts.join(', ')} }` : '{}';
  }
  return EJSON.stringify(value, { relaxed: true });
}
