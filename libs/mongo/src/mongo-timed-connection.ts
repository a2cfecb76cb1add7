import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

import mongoose, { type mongo } from 'mongoose';

/** The namespace a driver connection is given with each command (`MongoDBNamespace`). */
export interface CommandNamespace {
  /** Database name. */
  readonly db: string;
}

/** The parts of the driver's internal `Connection` the timed subclass relies on. */
interface DriverConnection {
  /** The pool's counter (a number) on pool connections; `'<monitor>'` on the heartbeat monitor's. */
  readonly id: unknown;
  /** Set once the handshake (hello, authentication) has completed. */
  readonly established: boolean;
  command(
    ns: CommandNamespace,
    command: mongo.Document,
    options?: unknown,
    responseType?: unknown,
  ): Promise<unknown>;
}

type DriverConnectionClass = new (...args: unknown[]) => DriverConnection;

/** What {@link timedConnectionClass} needs from the driver mongoose uses. */
export interface MongoDriverInternals {
  /** The driver's connection class (`mongodb/lib/cmap/connection.js`, `Connection`). */
  readonly Connection: unknown;
  /** The client options the driver accepts (`mongodb/lib/connection_string.js`, `OPTIONS`). */
  readonly clientOptions: unknown;
}

/**
 * Loads the driver internals from the copy of `mongodb` that mongoose itself uses (it is
 * mongoose's dependency, not necessarily ours); `undefined` when they cannot be loaded or belong
 * to another copy of the driver.
 */
export function loadMongoDriverInternals(): MongoDriverInternals | undefined {
  try {
    const fromMongoose = createRequire(createRequire(import.meta.url).resolve('mongoose'));
    const driver = fromMongoose('mongodb') as { MongoClient?: unknown };
    if (driver.MongoClient !== mongoose.mongo.MongoClient) return undefined;
    const fromDriver = createRequire(fromMongoose.resolve('mongodb'));
    const connection = fromDriver('./cmap/connection.js') as { Connection?: unknown };
    const connectionString = fromDriver('./connection_string.js') as { OPTIONS?: unknown };
    return { Connection: connection.Connection, clientOptions: connectionString.OPTIONS };
  } catch {
    return undefined;
  }
}

/** Called once per command of a pool connection, with its duration and, on failure, the error. */
export type CommandObserver = (
  ns: CommandNamespace,
  command: mongo.Document,
  milliseconds: number,
  failure?: unknown,
) => void;

/**
 * A subclass of the driver's connection class that times every command a pool connection sends,
 * from the call that sends it to its reply — the span the driver's command monitoring times, but
 * without its started and succeeded events, which cost a copy of the command and a second,
 * complete deserialisation of every reply. Given to the client as its `connectionType` (an
 * option the driver keeps for this), so only that client's connections are timed.
 *
 * Not timed, as with command monitoring: the handshake and authentication on a new connection
 * (before `established`) and the heartbeat monitor's connections (their id is not a number).
 *
 * @returns The class, or why the driver is not the shape this relies on (then nothing is timed
 * this way, and the caller falls back to command monitoring).
 */
export function timedConnectionClass(
  internals: MongoDriverInternals | undefined,
  observe: CommandObserver,
): DriverConnectionClass | string {
  if (internals === undefined) return "the driver's connection module could not be loaded";
  const Base = internals.Connection as DriverConnectionClass | undefined;
  const prototype = (Base as { prototype?: Partial<DriverConnection> } | undefined)?.prototype;
  if (typeof Base !== 'function' || typeof prototype?.command !== 'function') {
    return 'the driver has no Connection class with a command() method';
  }
  const accepted = internals.clientOptions;
  if (typeof accepted !== 'object' || accepted === null || !('connectionType' in accepted)) {
    return 'the driver does not accept the connectionType client option';
  }
  return class TimedConnection extends Base {
    override async command(
      ns: CommandNamespace,
      command: mongo.Document,
      options?: unknown,
      responseType?: unknown,
    ): Promise<unknown> {
      if (!this.established || typeof this.id !== 'number') {
        return super.command(ns, command, options, responseType);
      }
      const started = performance.now();
      try {
        const reply = await super.command(ns, command, options, responseType);
        observe(ns, command, performance.now() - started);
        return reply;
      } catch (error) {
        observe(ns, command, performance.now() - started, error);
        throw error;
      }
    }
  };
}
