import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId } from 'bson';

import { arithmetic, zeroLike } from './bson-arithmetic.js';
import { sortDocuments } from './bson-sort.js';
import { bsonTypeName, canonicalKey, compareBson, typeNumbersOf } from './bson-values.js';

describe('BSON values', () => {
  it('names the exact type of each value as mongod does', () => {
    expect(
      [new Int32(1), Long.fromNumber(1), new Double(1), Decimal128.fromString('1')].map(
        bsonTypeName,
      ),
    ).toEqual(['int', 'long', 'double', 'decimal']);
    expect([1, 1.5, 'x', null, [], {}, new Date(0)].map(bsonTypeName)).toEqual([
      'int',
      'double',
      'string',
      'null',
      'array',
      'object',
      'date',
    ]);
    expect(typeNumbersOf('number')).toEqual([1, 16, 18, 19]);
    expect(typeNumbersOf('int')).toEqual([16]);
    expect(typeNumbersOf(new Int32(18))).toEqual([18]);
    expect(typeNumbersOf('nope')).toBeUndefined();
  });

  it('compares numbers across types exactly, NaN first', () => {
    expect(compareBson(new Int32(1), Long.fromNumber(1))).toBe(0);
    expect(compareBson(new Double(1), Decimal128.fromString('1'))).toBe(0);
    expect(compareBson(Long.fromString('9007199254740993'), new Double(9007199254740992))).toBe(1);
    expect(compareBson(new Double(Number.NaN), new Int32(-5))).toBe(-1);
    expect(canonicalKey(new Int32(1))).toBe(canonicalKey(new Double(1)));
    expect(canonicalKey(Long.fromNumber(1))).not.toBe(canonicalKey(new Double(1.5)));
  });

  it('orders types as mongod: minKey < null < numbers < string < object < array < binData < objectId < bool < date < maxKey', () => {
    const ordered = [
      new MinKey(),
      null,
      new Int32(3),
      'a',
      { a: 1 },
      [1],
      new Binary(Buffer.from('x')),
      new ObjectId(),
      false,
      new Date(0),
      new MaxKey(),
    ];
    expect([...ordered].reverse().sort((a, b) => compareBson(a, b))).toEqual(ordered);
  });

  it('sorts arrays by their smallest element ascending and largest descending', () => {
    const docs = [{ _id: 1, v: [1, 10] }, { _id: 2, v: 5 }, { _id: 3 }];
    expect(sortDocuments(docs, { v: 1 }).map((d) => d._id as number)).toEqual([3, 1, 2]);
    expect(sortDocuments(docs, { v: -1 }).map((d) => d._id as number)).toEqual([1, 2, 3]);
  });

  it('does $inc/$mul arithmetic with mongod type rules', () => {
    const sum = (a: unknown, b: unknown) => arithmetic(a, b, 'add');
    expect(sum(new Int32(1), new Int32(2))).toEqual(new Int32(3));
    expect(sum(new Int32(2147483647), new Int32(1))).toEqual(Long.fromNumber(2147483648));
    expect(sum(Long.MAX_VALUE, new Int32(1))).toBeUndefined();
    expect(sum(new Int32(1), new Double(0.5))).toEqual(new Double(1.5));
    expect(String(sum(Decimal128.fromString('1.1'), new Int32(2)))).toBe('3.1');
    expect(String(arithmetic(Decimal128.fromString('1.5'), new Int32(3), 'multiply'))).toBe('4.5');
    expect(arithmetic(new Int32(65536), new Int32(65536), 'multiply')).toEqual(
      Long.fromNumber(2 ** 32),
    );
    expect(zeroLike(Long.fromNumber(3))).toEqual(Long.fromNumber(0));
  });
});
