import type { Document } from 'bson';
import { Decimal128, deserialize, Double, Int32, Long, serialize } from 'bson';

import { CommandError } from './mongo-wire-errors.js';
import { QueryViews } from './query-view.js';
import { applyUpdateOperators } from './update-operators.js';

const views = new QueryViews();

function apply(doc: Document, update: Document, filter?: Document): Document {
  applyUpdateOperators(doc, update, { views, filter, inserting: false });
  return doc;
}

function refusal(doc: Document, update: Document): { code: number; message: string } {
  try {
    apply(doc, update);
  } catch (error) {
    if (error instanceof CommandError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected the update to be refused');
}

describe('update operators', () => {
  it('keeps number types through $inc, $mul, $set, $min and $max', () => {
    const doc = apply(
      { _id: 1, i: new Int32(2147483647), d: new Decimal128('1.5'), l: Long.fromNumber(5) },
      {
        $inc: { i: new Int32(1), d: new Int32(1) },
        $mul: { l: new Double(2), m: Long.fromNumber(3) },
        $max: { x: new Double(1) },
      },
    );
    expect(doc.i).toEqual(Long.fromNumber(2147483648));
    expect(String(doc.d)).toBe('2.5');
    expect(doc.l).toEqual(new Double(10));
    expect(doc.m).toEqual(Long.fromNumber(0));
    expect(doc.x).toEqual(new Double(1));
  });

  it('refuses wrong types with mongod codes and messages', () => {
    expect(refusal({ _id: 1, a: 'x' }, { $inc: { a: new Int32(1) } })).toEqual({
      code: 14,
      message:
        "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string",
    });
    expect(refusal({ _id: 1, a: 1 }, { $inc: { a: 'x' } })).toEqual({
      code: 14,
      message: 'Cannot increment with non-numeric argument: {a: "x"}',
    });
    expect(refusal({ _id: 1, a: 's' }, { $push: { a: 1 } })).toEqual({
      code: 2,
      message: "The field 'a' must be an array but is of type string in document {_id: 1}",
    });
    expect(refusal({ _id: 1, a: 1 }, { $addToSet: { a: 1 } }).code).toBe(2);
    expect(refusal({ _id: 1, a: 1 }, { $pull: { a: 1 } })).toEqual({
      code: 2,
      message: 'Cannot apply $pull to a non-array value',
    });
    expect(refusal({ _id: 1, a: 1 }, { $set: { 'a.b': 1 } })).toEqual({
      code: 28,
      message: "Cannot create field 'b' in element {a: 1}",
    });
    expect(refusal({ _id: 1, a: 1 }, { $rename: { a: 'a' } })).toEqual({
      code: 2,
      message: 'The source and target field for $rename must differ: a: "a"',
    });
    expect(refusal({ _id: 1, a: Long.MAX_VALUE }, { $inc: { a: 1 } }).message).toBe(
      'Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: 1}',
    );
  });

  it('applies array operators, positional paths and field order like mongod', () => {
    const doc = apply(
      { _id: 1, xs: [3, 1], items: [{ k: 1 }, { k: 2 }] },
      {
        $push: { xs: { $each: [2], $sort: 1, $slice: 2 } },
        $set: { 'items.$.v': 9, z: 1, b: 1 },
        $addToSet: { tags: { $each: ['a', 'a'] } },
      },
      { 'items.k': 2 },
    );
    expect(deserialize(serialize(doc))).toEqual({
      _id: 1,
      xs: [1, 2],
      items: [{ k: 1 }, { k: 2, v: 9 }],
      b: 1,
      tags: ['a'],
      z: 1,
    });
  });
});
