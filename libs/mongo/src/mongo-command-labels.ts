import { OTHER_LABEL_VALUE } from '@nest-pools/core';
import type { mongo } from 'mongoose';

/**
 * Command names that become a `db_operation_name` of their own; any other command (an admin
 * command, a typo sent through `db.command()`) is `other`, so the label stays bounded.
 */
const KNOWN_COMMANDS: ReadonlySet<string> = new Set([
  'abortTransaction',
  'aggregate',
  'buildInfo',
  'bulkWrite',
  'collMod',
  'collStats',
  'commitTransaction',
  'count',
  'create',
  'createIndexes',
  'dbStats',
  'delete',
  'distinct',
  'drop',
  'dropDatabase',
  'dropIndexes',
  'endSessions',
  'explain',
  'find',
  'findAndModify',
  'getMore',
  'hello',
  'insert',
  'isMaster',
  'killCursors',
  'listCollections',
  'listDatabases',
  'listIndexes',
  'ping',
  'renameCollection',
  'serverStatus',
  'update',
  'validate',
]);

/** `db_operation_name` of a command: its name when known, else `other`. */
export function mongoOperationName(commandName: string): string {
  return KNOWN_COMMANDS.has(commandName) ? commandName : OTHER_LABEL_VALUE;
}

/**
 * `db_collection_name` of a command document: the collection its first field names (`find`,
 * `insert`, `aggregate`, …), or `collection` of a `getMore`; empty for database-level commands.
 */
export function mongoCollectionOf(commandName: string, command: mongo.Document): string {
  const target: unknown = commandName === 'getMore' ? command['collection'] : command[commandName];
  return typeof target === 'string' ? target : '';
}

/**
 * `error_type` of a failed command: the server's `codeName` (`DuplicateKey`, `NotWritablePrimary`),
 * its numeric code, or the driver error's class (`MongoNetworkError`, `MongoNetworkTimeoutError`).
 */
export function mongoErrorType(failure: unknown): string {
  const error = failure as { codeName?: unknown; code?: unknown; name?: unknown } | undefined;
  if (typeof error?.codeName === 'string' && error.codeName !== '') return error.codeName;
  if (typeof error?.code === 'number') return String(error.code);
  return typeof error?.name === 'string' && /^Mongo[A-Za-z]*Error$/.test(error.name)
    ? error.name
    : 'other';
}

/** The name of a command document: its first field (`{ find: 'items', filter: … }` → `find`). */
export function mongoCommandName(command: mongo.Document): string {
  // The first key, without building the array of all keys as Object.keys() would.
  for (const name in command) return name;
  return '';
}
