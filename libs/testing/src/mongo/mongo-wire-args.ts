import type { Document } from 'bson';
import { MingoError } from 'mingo/util';

import { bsonTypeName, toJsNumber } from './bson-values.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import type { StatementHistory } from './mongo-wire-retryable.js';

/** Context of a command: the database it targets (`$db`). */
export interface CommandScope {
  db: string;
  /** The statement history of a retryable write (`lsid` + `txnNumber` on a replica set). */
  statements?: StatementHistory;
}

/** A plain document (not an array, not a BSON value object). */
export function isObject(value: unknown): value is Document {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A document or an array: the nodes a path walks through. */
export function isContainer(value: unknown): value is Document | unknown[] {
  return Array.isArray(value) || isObject(value);
}

/** A numeric command option of any BSON number type, as a JS number. */
export function asNumber(value: unknown): number | undefined {
  return toJsNumber(value);
}

/** A collection-name argument. */
export function stringArg(cmd: Document, name: string): string {
  const value: unknown = cmd[name];
  if (typeof value !== 'string') {
    throw new CommandError(
      MongoErrorCode.InvalidNamespace,
      `collection name has invalid type ${bsonTypeName(value)}`,
    );
  }
  return value;
}

/** An optional document argument (`filter`, `sort`…). */
export function documentArg(cmd: Document, name: string): Document | undefined {
  const value: unknown = cmd[name];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    throw new CommandError(
      MongoErrorCode.TypeMismatch,
      `BSON field '${name}' is the wrong type '${bsonTypeName(value)}', expected type 'object'`,
    );
  }
  return value;
}

/** A required array argument (`documents`, `updates`…). */
export function arrayArg(cmd: Document, name: string): Document[] {
  const value: unknown = cmd[name];
  if (!Array.isArray(value)) {
    throw new CommandError(
      MongoErrorCode.TypeMismatch,
      `BSON field '${name}' is missing or is not an array`,
    );
  }
  return value as Document[];
}

/** Keeps `_id` as the first field, as mongod stores it. */
export function idFirst(doc: Document): Document {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const id: unknown = doc._id;
  const rest: Document = { ...doc };
  delete rest._id;
  return { _id: id, ...rest };
}

/**
 * Maps query-engine failures to the server's codes (`ImmutableField` for `_id` changes,
 * `BadValue` otherwise); command errors pass through, anything else is rethrown.
 */
export function toCommandError(error: unknown): CommandError {
  if (error instanceof CommandError) return error;
  if (error instanceof MingoError) {
    const code = /immutable field '_id'/.test(error.message)
      ? MongoErrorCode.ImmutableField
      : MongoErrorCode.BadValue;
    return new CommandError(code, error.message);
  }
  throw error;
}

/** Turns a failure into the write error entry of an insert/update/delete reply. */
export function writeError(index: number, error: CommandError): Document {
  return { index, code: error.code, errmsg: error.message, ...error.extra };
}
