import { Decimal128, Double, Int32, Long } from 'bson';

import type { BsonNumber } from './bson-values.js';
import { bsonTypeNumber, toJsNumber } from './bson-values.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Arithmetic operations of `$inc` and `$mul`. */
export type ArithmeticOp = 'add' | 'multiply';

/** A finite decimal as coefficient × 10^exponent. */
interface ExactDecimal {
  coefficient: bigint;
  exponent: number;
}

function parseDecimal(text: string): ExactDecimal | number {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!match) return Number(text); // NaN, Infinity, -Infinity
  const [, sign = '', int = '', frac = '', exp = '0'] = match;
  const digits = `${int}${frac}` || '0';
  return {
    coefficient: BigInt(`${sign}${digits}`),
    exponent: Number(exp) - frac.length,
  };
}

/** mongod turns a double into a decimal with 15 significant digits. */
function decimalOf(value: unknown): ExactDecimal | number {
  if (value instanceof Decimal128) return parseDecimal(value.toString());
  if (value instanceof Long) return { coefficient: BigInt(value.toString()), exponent: 0 };
  const n = toJsNumber(value) ?? Number.NaN;
  if (!Number.isFinite(n)) return n;
  if (bsonTypeNumber(value) === 16) return { coefficient: BigInt(n), exponent: 0 };
  return parseDecimal(n.toPrecision(15));
}

function decimalResult(a: unknown, b: unknown, op: ArithmeticOp): Decimal128 {
  const x = decimalOf(a);
  const y = decimalOf(b);
  if (typeof x === 'number' || typeof y === 'number') {
    const fx = typeof x === 'number' ? x : 1;
    const fy = typeof y === 'number' ? y : 1;
    const special = op === 'add' ? fx + fy : fx * fy;
    return Decimal128.fromString(Number.isNaN(special) ? 'NaN' : String(special));
  }
  let result: ExactDecimal;
  if (op === 'multiply') {
    result = { coefficient: x.coefficient * y.coefficient, exponent: x.exponent + y.exponent };
  } else {
    const exponent = Math.min(x.exponent, y.exponent);
    const scale = (d: ExactDecimal): bigint => d.coefficient * 10n ** BigInt(d.exponent - exponent);
    result = { coefficient: scale(x) + scale(y), exponent };
  }
  return Decimal128.fromStringWithRounding(`${result.coefficient}E${result.exponent}`);
}

/**
 * `$inc`/`$mul` on two BSON numbers with mongod's type rules: the wider type wins (decimal >
 * double > long > int); int + int that overflows becomes a long; a long that overflows has no
 * result (undefined: mongod refuses the update).
 */
export function arithmetic(a: unknown, b: unknown, op: ArithmeticOp): BsonNumber | undefined {
  const types = [bsonTypeNumber(a), bsonTypeNumber(b)];
  if (types.includes(19)) return decimalResult(a, b, op);
  if (types.includes(1)) {
    const [x, y] = [toJsNumber(a) ?? Number.NaN, toJsNumber(b) ?? Number.NaN];
    return new Double(op === 'add' ? x + y : x * y);
  }
  const x = a instanceof Long ? BigInt(a.toString()) : BigInt(toJsNumber(a) ?? 0);
  const y = b instanceof Long ? BigInt(b.toString()) : BigInt(toJsNumber(b) ?? 0);
  const result = op === 'add' ? x + y : x * y;
  if (types.includes(18) || result < BigInt(INT32_MIN) || result > BigInt(INT32_MAX)) {
    if (result < INT64_MIN || result > INT64_MAX) return undefined;
    return Long.fromBigInt(result);
  }
  return new Int32(Number(result));
}

/** Zero in the type of `like` (what `$mul` stores in a missing field). */
export function zeroLike(like: unknown): BsonNumber {
  switch (bsonTypeNumber(like)) {
    case 18:
      return Long.fromNumber(0);
    case 19:
      return Decimal128.fromString('0');
    case 1:
      return new Double(0);
    default:
      return new Int32(0);
  }
}

/** How mongod's SafeNum prints a number in "Failed to apply" messages. */
export function debugNumber(value: unknown): string {
  const label: Record<number, string> = {
    16: 'NumberInt',
    18: 'NumberLong',
    1: 'NumberDouble',
    19: 'NumberDecimal',
  };
  const text =
    value instanceof Long || value instanceof Decimal128
      ? value.toString()
      : String(toJsNumber(value));
  return `(${label[bsonTypeNumber(value)] ?? 'EOO'})${text}`;
}

/** Bitwise `$bit` on int/long values; undefined when either is not integral. */
export function bitwise(
  a: unknown,
  b: unknown,
  op: 'and' | 'or' | 'xor',
): Int32 | Long | undefined {
  const types = [bsonTypeNumber(a), bsonTypeNumber(b)];
  if (!types.every((t) => t === 16 || t === 18)) return undefined;
  const x = BigInt.asIntN(64, BigInt(a instanceof Long ? a.toString() : (toJsNumber(a) ?? 0)));
  const y = BigInt.asIntN(64, BigInt(b instanceof Long ? b.toString() : (toJsNumber(b) ?? 0)));
  const r = op === 'and' ? x & y : op === 'or' ? x | y : x ^ y;
  return types.includes(18)
    ? Long.fromBigInt(BigInt.asIntN(64, r))
    : new Int32(Number(BigInt.asIntN(32, r)));
}
