import type { Document } from 'bson';

import { renderBson } from './bson-values.js';
import { isContainer } from './mongo-wire-args.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import type { QueryViews } from './query-view.js';

/** Where an update writes: the container and the key (an index for arrays). */
export interface Slot {
  parent: Document | unknown[];
  key: string;
}

/** What positional parts of a path need: the matched array index and the array filters. */
export interface PositionalContext {
  views: QueryViews;
  /** The update's query, for `$`. */
  filter?: Document;
  /** Compiled `arrayFilters` by identifier. */
  arrayFilters: Map<string, (element: unknown) => boolean>;
}

const INDEX = /^\d+$/;

/** The value in a slot (undefined when absent). */
export function read(slot: Slot): unknown {
  return (slot.parent as Record<string, unknown>)[slot.key];
}

/** Stores a value in a slot; arrays are padded with nulls up to the index, as mongod does. */
export function write(slot: Slot, value: unknown): void {
  if (Array.isArray(slot.parent)) {
    const index = Number(slot.key);
    while (slot.parent.length < index) slot.parent.push(null);
    slot.parent[index] = value;
  } else {
    slot.parent[slot.key] = value;
  }
}

/** Removes a slot's value (an array element becomes null, as with mongod's `$unset`). */
export function remove(slot: Slot): void {
  if (Array.isArray(slot.parent)) {
    if (Number(slot.key) < slot.parent.length) slot.parent[Number(slot.key)] = null;
  } else {
    delete slot.parent[slot.key];
  }
}

function notViable(part: string, holderKey: string, holder: unknown): CommandError {
  return new CommandError(
    MongoErrorCode.PathNotViable,
    `Cannot create field '${part}' in element {${holderKey}: ${renderBson(holder)}}`,
  );
}

/**
 * The slot of a concrete dotted path. With `create`, missing intermediate documents are made
 * and a scalar in the way is mongod's PathNotViable (code 28); without it, an unreachable path
 * gives undefined (operators like `$unset` and `$pull` then do nothing).
 */
export function locate(doc: Document, parts: string[], create: boolean): Slot | undefined {
  let node: Document | unknown[] = doc;
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] as string;
    if (Array.isArray(node) && !INDEX.test(part)) {
      if (!create) return undefined;
      throw notViable(part, parts[i - 1] ?? '', node);
    }
    if (i === parts.length - 1) return { parent: node, key: part };
    const child: unknown = (node as Record<string, unknown>)[part];
    if (child === undefined || (child === null && Array.isArray(node))) {
      if (!create) return undefined;
      const made: Document = {};
      write({ parent: node, key: part }, made);
      node = made;
    } else if (isContainer(child)) {
      node = child;
    } else {
      if (!create) return undefined;
      throw notViable(parts[i + 1] as string, part, child);
    }
  }
  return undefined;
}

/** Index of the first element of the array at `prefix` that satisfies the query's conditions on it. */
function matchedIndex(doc: Document, prefix: string, ctx: PositionalContext): number | undefined {
  const conditions: Document = {};
  const collect = (q: Document): void => {
    for (const [key, value] of Object.entries(q) as Array<[string, unknown]>) {
      if (key === '$and' && Array.isArray(value)) {
        for (const part of value as Document[]) collect(part);
      } else if (key === prefix || key.startsWith(`${prefix}.`)) {
        conditions[key] = value;
      }
    }
  };
  if (ctx.filter) collect(ctx.filter);
  const array = readPath(doc, prefix);
  if (!Object.keys(conditions).length || !Array.isArray(array)) return undefined;
  const query = ctx.views.query(conditions);
  const index = array.findIndex((element) => {
    const probe: Document = {};
    write(locate(probe, prefix.split('.'), true) as Slot, [ctx.views.build(element)]);
    return query.test(probe);
  });
  return index < 0 ? undefined : index;
}

function readPath(doc: Document, path: string): unknown {
  let node: unknown = doc;
  for (const part of path.split('.')) {
    if (!isContainer(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * Turns a path with positional parts (`$`, `$[]`, `$[id]`) into the concrete paths it updates
 * in `doc`; plain paths come back unchanged.
 */
export function expandPath(doc: Document, path: string, ctx: PositionalContext): string[][] {
  const parts = path.split('.');
  if (!parts.some((p) => p.startsWith('$'))) return [parts];
  const out: string[][] = [];
  const walk = (node: unknown, i: number, prefix: string[]): void => {
    if (i === parts.length) {
      out.push(prefix);
      return;
    }
    const part = parts[i] as string;
    if (part === '$') {
      const index = matchedIndex(doc, prefix.join('.'), ctx);
      if (index === undefined) {
        throw new CommandError(
          MongoErrorCode.BadValue,
          'The positional operator did not find the match needed from the query.',
        );
      }
      walk(Array.isArray(node) ? node[index] : undefined, i + 1, [...prefix, String(index)]);
      return;
    }
    const all = part === '$[]';
    const identifier = /^\$\[(\w+)\]$/.exec(part)?.[1];
    if (all || identifier !== undefined) {
      const at = prefix.join('.');
      if (node === undefined) {
        throw new CommandError(
          MongoErrorCode.BadValue,
          `The path '${at}' must exist in the document in order to apply array updates.`,
        );
      }
      if (!Array.isArray(node)) {
        throw new CommandError(
          MongoErrorCode.BadValue,
          `Cannot apply array updates to non-array element ${prefix[prefix.length - 1] ?? ''}: ${renderBson(node)}`,
        );
      }
      const test = identifier === undefined ? undefined : ctx.arrayFilters.get(identifier);
      if (identifier !== undefined && !test) {
        throw new CommandError(
          MongoErrorCode.BadValue,
          `No array filter found for identifier '${identifier}' in path '${path}'`,
        );
      }
      node.forEach((element, index) => {
        if (!test || test(element)) walk(element, i + 1, [...prefix, String(index)]);
      });
      return;
    }
    const child = isContainer(node) ? (node as Record<string, unknown>)[part] : undefined;
    walk(child, i + 1, [...prefix, part]);
  };
  walk(doc, 0, []);
  return out;
}
