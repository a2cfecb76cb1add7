import type { Document } from 'bson';
import { Timestamp } from 'bson';

import { arithmetic, bitwise, debugNumber, zeroLike } from './bson-arithmetic.js';
import { sortDocuments } from './bson-sort.js';
import { bsonTypeName, compareBson, isBsonNumber, renderBson, toJsNumber } from './bson-values.js';
import { isObject } from './mongo-wire-args.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import { cloneDocument } from './mongo-wire-store.js';
import type { QueryViews } from './query-view.js';
import type { PositionalContext, Slot } from './update-paths.js';
import { expandPath, locate, read, remove, write } from './update-paths.js';

/** Update operators the server implements (mongod's full set). */
export const UPDATE_OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$currentDate',
  '$push',
  '$addToSet',
  '$pop',
  '$pull',
  '$pullAll',
  '$bit',
  '$setOnInsert',
]);

/** What an update needs besides the document: the query, array filters, upsert or not. */
export interface UpdateOptions {
  views: QueryViews;
  filter?: Document;
  arrayFilters?: Document[];
  /** True for the document an upsert creates (`$setOnInsert` applies). */
  inserting: boolean;
}

type Apply = (slot: Slot, arg: unknown, field: Field) => void;

/** The field an operator is applied to, for mongod's messages. */
interface Field {
  name: string;
  path: string;
  id: string;
}

const copy = (value: unknown): unknown => cloneDocument<{ v: unknown }>({ v: value }).v;

function arithmeticApply(op: '$inc' | '$mul'): Apply {
  return (slot, arg, field) => {
    const current = read(slot);
    if (current === undefined) {
      write(slot, op === '$inc' ? copy(arg) : zeroLike(arg));
      return;
    }
    if (!isBsonNumber(current)) {
      throw new CommandError(
        MongoErrorCode.TypeMismatch,
        `Cannot apply ${op} to a value of non-numeric type. {${field.id}} has the field ` +
          `'${field.name}' of non-numeric type ${bsonTypeName(current)}`,
      );
    }
    const result = arithmetic(current, arg, op === '$inc' ? 'add' : 'multiply');
    if (!result) {
      throw new CommandError(
        MongoErrorCode.BadValue,
        `Failed to apply ${op} operations to current value (${debugNumber(current)}) for document {${field.id}}`,
      );
    }
    write(slot, result);
  };
}

function notArray(op: string, current: unknown, field: Field): CommandError {
  if (op === '$addToSet') {
    return new CommandError(
      MongoErrorCode.BadValue,
      `Cannot apply $addToSet to non-array field. Field named '${field.name}' has non-array type ${bsonTypeName(current)}`,
    );
  }
  if (op === '$pop') {
    return new CommandError(
      MongoErrorCode.TypeMismatch,
      `Path '${field.path}' contains an element of non-array type '${bsonTypeName(current)}'`,
    );
  }
  if (op === '$push') {
    return new CommandError(
      MongoErrorCode.BadValue,
      `The field '${field.name}' must be an array but is of type ${bsonTypeName(current)} in document {${field.id}}`,
    );
  }
  return new CommandError(MongoErrorCode.BadValue, `Cannot apply ${op} to a non-array value`);
}

/** `$push`/`$addToSet` argument: plain value or `{ $each, $position, $slice, $sort }`. */
function eachOf(op: string, arg: unknown): { values: unknown[]; mods: Document } {
  if (!isObject(arg) || !('$each' in arg)) return { values: [arg], mods: {} };
  const { $each, ...mods } = arg;
  if (!Array.isArray($each)) {
    throw new CommandError(
      MongoErrorCode.BadValue,
      `The argument to $each in ${op} must be an array but it was of type: ${bsonTypeName($each)}`,
    );
  }
  return { values: $each as unknown[], mods };
}

function push(array: unknown[], values: unknown[], mods: Document): unknown[] {
  const position = toJsNumber(mods.$position);
  let out = [...array];
  const at =
    position === undefined
      ? out.length
      : position < 0
        ? Math.max(0, out.length + position)
        : position;
  out.splice(at, 0, ...values.map(copy));
  if (mods.$sort !== undefined) {
    const spec: unknown = mods.$sort;
    if (isObject(spec)) out = sortDocuments(out as Document[], spec);
    else out.sort((a, b) => compareBson(a, b) * (toJsNumber(spec) === -1 ? -1 : 1));
  }
  const slice = toJsNumber(mods.$slice);
  if (slice !== undefined) out = slice >= 0 ? out.slice(0, slice) : out.slice(slice);
  return out;
}

function arrayApply(
  op: string,
  change: (current: unknown[], arg: unknown) => unknown[],
  onMissing?: (arg: unknown) => unknown[],
): Apply {
  return (slot, arg, field) => {
    const current = read(slot);
    if (current === undefined) {
      if (onMissing) write(slot, onMissing(arg));
      return;
    }
    if (!Array.isArray(current)) throw notArray(op, current, field);
    write(slot, change(current, arg));
  };
}

function pullMatcher(views: QueryViews, arg: unknown): (element: unknown) => boolean {
  if (isObject(arg)) {
    const operatorOnly = Object.keys(arg).every((k) => k.startsWith('$'));
    const query = views.query(operatorOnly ? { v: arg } : arg);
    return (e) =>
      operatorOnly
        ? query.test({ v: views.build(e) })
        : isObject(e) && query.test(views.build(e) as Document);
  }
  return (e) => compareBson(e, arg) === 0;
}

function operators(views: QueryViews): Record<string, { apply: Apply; creates: boolean }> {
  const addToSet = (current: unknown[], arg: unknown): unknown[] => {
    const out = [...current];
    for (const v of eachOf('$addToSet', arg).values) {
      if (!out.some((e) => compareBson(e, v) === 0)) out.push(copy(v));
    }
    return out;
  };
  const minMax =
    (sign: 1 | -1): Apply =>
    (slot, arg) => {
      const current = read(slot);
      if (current === undefined || compareBson(arg, current) * sign < 0) write(slot, copy(arg));
    };
  return {
    $set: { apply: (slot, arg) => write(slot, copy(arg)), creates: true },
    $setOnInsert: { apply: (slot, arg) => write(slot, copy(arg)), creates: true },
    $unset: { apply: (slot) => remove(slot), creates: false },
    $inc: { apply: arithmeticApply('$inc'), creates: true },
    $mul: { apply: arithmeticApply('$mul'), creates: true },
    $min: { apply: minMax(1), creates: true },
    $max: { apply: minMax(-1), creates: true },
    $currentDate: {
      apply: (slot, arg) => {
        const timestamp = isObject(arg) && arg.$type === 'timestamp';
        const now = Date.now();
        write(slot, timestamp ? new Timestamp({ t: Math.floor(now / 1000), i: 1 }) : new Date(now));
      },
      creates: true,
    },
    $push: {
      apply: arrayApply(
        '$push',
        (current, arg) => push(current, eachOf('$push', arg).values, eachOf('$push', arg).mods),
        (arg) => push([], eachOf('$push', arg).values, eachOf('$push', arg).mods),
      ),
      creates: true,
    },
    $addToSet: {
      apply: arrayApply('$addToSet', addToSet, (arg) => addToSet([], arg)),
      creates: true,
    },
    $pop: {
      apply: arrayApply('$pop', (current, arg) =>
        toJsNumber(arg) === -1 ? current.slice(1) : current.slice(0, -1),
      ),
      creates: false,
    },
    $pull: {
      apply: arrayApply('$pull', (current, arg) => {
        const matches = pullMatcher(views, arg);
        return current.filter((e) => !matches(e));
      }),
      creates: false,
    },
    $pullAll: {
      apply: arrayApply('$pullAll', (current, arg) =>
        current.filter((e) => !(arg as unknown[]).some((v) => compareBson(e, v) === 0)),
      ),
      creates: false,
    },
    $bit: {
      apply: (slot, arg, field) => {
        let value = read(slot) ?? zeroLike(Object.values(arg as Document)[0]);
        for (const [op, operand] of Object.entries(arg as Document)) {
          const next = bitwise(value, operand, op as 'and' | 'or' | 'xor');
          if (!next) {
            throw new CommandError(
              MongoErrorCode.BadValue,
              `Cannot apply $bit to a value of non-integral type.{${field.id}} has the field ${field.name} of non-integer type ${bsonTypeName(value)}`,
            );
          }
          value = next;
        }
        write(slot, value);
      },
      creates: true,
    },
  };
}

/** Refuses malformed arguments before anything is applied, as mongod parses first. */
function checkArgument(op: string, path: string, arg: unknown): void {
  const element = `${path}: ${renderBson(arg)}`;
  const fail = (code: number, message: string): never => {
    throw new CommandError(code, message);
  };
  if ((op === '$inc' || op === '$mul') && !isBsonNumber(arg)) {
    fail(
      MongoErrorCode.TypeMismatch,
      `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${element}}`,
    );
  }
  if (op === '$rename') {
    if (typeof arg !== 'string')
      fail(MongoErrorCode.BadValue, `The 'to' field for $rename must be a string: ${element}`);
    if (arg === path)
      fail(
        MongoErrorCode.BadValue,
        `The source and target field for $rename must differ: ${element}`,
      );
  }
  if (op === '$pop' && toJsNumber(arg) !== 1 && toJsNumber(arg) !== -1) {
    fail(MongoErrorCode.BadValue, `$pop expects 1 or -1, found: ${renderBson(arg)}`);
  }
  if (op === '$pullAll' && !Array.isArray(arg)) {
    fail(
      MongoErrorCode.BadValue,
      `$pullAll requires an array argument but was given a ${bsonTypeName(arg)}`,
    );
  }
  if (
    op === '$bit' &&
    (!isObject(arg) || !Object.keys(arg).every((k) => ['and', 'or', 'xor'].includes(k)))
  ) {
    fail(MongoErrorCode.BadValue, `The $bit modifier only supports 'and', 'or', and 'xor'`);
  }
}

/** mongod refuses one update touching a path twice (`a` and `a.b`, or `a` in two operators). */
export function assertNoConflictingPaths(update: Document): void {
  const paths: string[] = [];
  for (const [op, fields] of Object.entries(update)) {
    if (!isObject(fields)) continue;
    for (const [path, value] of Object.entries(fields)) {
      paths.push(path);
      if (op === '$rename' && typeof value === 'string') paths.push(value);
    }
  }
  const sorted = [...paths].sort();
  for (let i = 1; i < sorted.length; i += 1) {
    const prev = sorted[i - 1] as string;
    const cur = sorted[i] as string;
    if (cur === prev || cur.startsWith(`${prev}.`)) {
      throw new CommandError(
        MongoErrorCode.ConflictingUpdateOperators,
        `Updating the path '${cur}' would create a conflict at '${prev}'`,
      );
    }
  }
}

function compileArrayFilters(views: QueryViews, filters: Document[] = []) {
  const compiled = new Map<string, (element: unknown) => boolean>();
  for (const filter of filters) {
    const first = Object.keys(filter).find((k) => !k.startsWith('$')) ?? '';
    const identifier = first.split('.')[0] ?? '';
    const query = views.query(filter);
    compiled.set(identifier, (element) => query.test({ [identifier]: views.build(element) }));
  }
  return compiled;
}

/**
 * Applies an operator update (`{ $set: …, $inc: … }`) to `doc` in place, with mongod's rules:
 * arguments are checked first, fields are applied in path order, BSON number types follow
 * mongod's arithmetic, and a wrong type is the same write error mongod gives.
 */
export function applyUpdateOperators(
  doc: Document,
  update: Document,
  options: UpdateOptions,
): void {
  for (const op of Object.keys(update)) {
    if (!UPDATE_OPERATORS.has(op)) {
      throw new CommandError(
        MongoErrorCode.FailedToParse,
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
  }
  const entries: Array<[string, string, unknown]> = [];
  for (const [op, fields] of Object.entries(update)) {
    if (op === '$setOnInsert' && !options.inserting) continue;
    if (!isObject(fields)) {
      throw new CommandError(
        MongoErrorCode.FailedToParse,
        `Modifiers operate on fields but we found type ${bsonTypeName(fields)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${renderBson(fields)}}`,
      );
    }
    for (const [path, arg] of Object.entries(fields)) {
      checkArgument(op, path, arg);
      entries.push([path, op, arg]);
    }
  }
  assertNoConflictingPaths(update);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const table = operators(options.views);
  const ctx: PositionalContext = {
    views: options.views,
    filter: options.filter,
    arrayFilters: compileArrayFilters(options.views, options.arrayFilters),
  };
  const id = `_id: ${renderBson(doc._id)}`;
  for (const [path, op, arg] of entries) {
    for (const parts of expandPath(doc, path, ctx)) {
      const field: Field = { name: parts[parts.length - 1] ?? '', path: parts.join('.'), id };
      if (op === '$rename') {
        const source = locate(doc, parts, false);
        const value = source ? read(source) : undefined;
        if (!source || value === undefined) continue;
        remove(source);
        write(locate(doc, String(arg).split('.'), true) as Slot, value);
        continue;
      }
      const { apply, creates } = table[op] as { apply: Apply; creates: boolean };
      const slot = locate(doc, parts, creates);
      if (slot) apply(slot, arg, field);
    }
  }
}
