import type { Document } from 'bson';
import { Decimal128, Double, Int32, Long } from 'bson';
import { Context } from 'mingo/core';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import { Query } from 'mingo/query';
import type { Options as MingoOptions } from 'mingo/types';
import { resolve } from 'mingo/util';

import { bsonTypeNumber, typeNumbersOf } from './bson-values.js';
import { isContainer } from './mongo-wire-args.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';

/** A compiled filter: true when the (exactly typed) document matches. */
export type Matcher = (doc: Document) => boolean;

/**
 * The query engine (mingo) compares JS numbers, so documents are matched through a *view*:
 * the same tree with every BSON number replaced by a JS number (int64 past 2^53 and decimals
 * approximately). Stored documents keep their exact types; the view is derived, cached per
 * document, and remembers which typed node each of its objects came from, so `$type` can read
 * the real types.
 */
export class QueryViews {
  private readonly views = new WeakMap<object, Document>();
  private readonly typedOf = new WeakMap<object, object>();
  private readonly context: Context;

  constructor() {
    const operators = {
      accumulator: accumulatorOperators,
      expression: expressionOperators,
      pipeline: pipelineOperators,
      projection: projectionOperators,
      query: { ...queryOperators, $type: this.typeOperator() },
      window: windowOperators,
    };
    this.context = Context.init(operators);
  }

  /** mingo options with this server's `$type`; `collation` applies to string comparisons. */
  options(collation?: Document, extra: Partial<MingoOptions> = {}): Partial<MingoOptions> {
    return {
      scriptEnabled: false,
      context: this.context,
      ...(collation ? { collation: collation as MingoOptions['collation'] } : {}),
      ...extra,
    };
  }

  /** The view of a stored document (cached: stored documents are never mutated in place). */
  view(doc: Document): Document {
    let view = this.views.get(doc);
    if (!view) {
      view = this.build(doc) as Document;
      this.views.set(doc, view);
    }
    return view;
  }

  /** A fresh view of any value (filters, arguments, documents being updated). */
  build(value: unknown): unknown {
    const number = numberView(value);
    if (number !== undefined) return number;
    if (!isContainer(value)) return value;
    const out: Document | unknown[] = Array.isArray(value)
      ? value.map((v) => this.build(v))
      : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.build(v)]));
    this.typedOf.set(out, value);
    return out;
  }

  /** Compiles a typed filter; throws the server's BadValue for a malformed one. */
  compile(filter: Document, collation?: Document): Matcher {
    const query = this.query(filter, collation);
    return (doc) => query.test(this.view(doc));
  }

  /** A mingo query over views (for `$pull` conditions and array filters). */
  query(filter: Document, collation?: Document): Query {
    return new Query(this.build(filter) as Document, this.options(collation));
  }

  private typeOperator() {
    return (selector: string, spec: unknown, _options: unknown) => {
      const specs = Array.isArray(spec) ? (spec as unknown[]) : [spec];
      const wanted = new Set<number>();
      for (const s of specs) {
        const numbers = typeNumbersOf(s);
        if (!numbers) {
          throw new CommandError(
            MongoErrorCode.BadValue,
            typeof s === 'string'
              ? `Unknown type name alias: ${s}`
              : `Invalid numerical type code: ${String(s)}`,
          );
        }
        for (const n of numbers) wanted.add(n);
      }
      return (obj: object): boolean => {
        const root = this.typedOf.get(obj) ?? obj;
        return valuesAt(root, selector.split('.')).some((v) => {
          if (wanted.has(bsonTypeNumber(v))) return true;
          return Array.isArray(v) && v.some((e) => wanted.has(bsonTypeNumber(e)));
        });
      };
    };
  }
}

function numberView(value: unknown): number | undefined {
  if (value instanceof Int32 || value instanceof Double) return value.value;
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Decimal128) return Number(value.toString());
  return undefined;
}

/** Values a dotted path reaches, through arrays as mongod's matcher walks them. */
export function valuesAt(value: unknown, parts: string[]): unknown[] {
  if (parts.length === 0) return value === undefined ? [] : [value];
  const [head, ...rest] = parts as [string, ...string[]];
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    if (/^\d+$/.test(head)) out.push(...valuesAt(value[Number(head)], rest));
    for (const element of value) {
      if (element !== null && typeof element === 'object' && !Array.isArray(element)) {
        out.push(...valuesAt(element, parts));
      }
    }
    return out;
  }
  if (value === null || typeof value !== 'object') return [];
  return valuesAt((value as Document)[head], rest);
}

/** The value at a dotted path without array fan-out (`a.0.b` indexes), or undefined. */
export function valueAt(doc: unknown, path: string): unknown {
  return resolve(doc as Document, path);
}
