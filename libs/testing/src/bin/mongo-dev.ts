#!/usr/bin/env node
/**
 * Runs {@link MongoWireServer} in the foreground for local development:
 * `npm run mongo:dev -- --port 27018 [--host 127.0.0.1]`, or a replica set of them with
 * `--replset NAME --members 3` (members on port, port+1, port+2). Stops on SIGINT/SIGTERM.
 *
 * @example
 * ```sh
 * npm run mongo:dev -- --port 27018
 * MONGODB_URL=mongodb://127.0.0.1:27018/codebot npm start
 * ```
 * @module
 */
import { parseArgs } from 'node:util';

import { MongoWireReplicaSet } from '../mongo/mongo-wire-replset.js';
import { MongoWireServer } from '../mongo/mongo-wire-server.js';

/** Default port of the development server (27017 is left to a real mongod). */
const MONGO_DEV_DEFAULT_PORT = 27018;

/** Parsed command line of `mongo:dev`. */
interface MongoDevArgs {
  /** @default 27018 */
  port: number;
  /** @default '127.0.0.1' */
  host: string;
  /** Replica-set name; standalone when undefined. */
  replset?: string;
  /** Members of the replica set. @default 3 */
  members: number;
}

/** Parses `--port` and `--host`; throws a message that says what is accepted. */
function parseMongoDevArgs(argv: string[]): MongoDevArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string', short: 'h' },
      replset: { type: 'string' },
      members: { type: 'string' },
    },
    strict: true,
  });
  const port = values.port === undefined ? MONGO_DEV_DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer between 0 and 65535, got "${values.port}"`);
  }
  const members = values.members === undefined ? 3 : Number(values.members);
  if (!Number.isInteger(members) || members < 1 || members > 7) {
    throw new Error(`--members must be an integer from 1 to 7, got "${values.members}"`);
  }
  if (values.members !== undefined && values.replset === undefined) {
    throw new Error('--members needs --replset NAME');
  }
  return {
    port,
    host: values.host ?? '127.0.0.1',
    members,
    ...(values.replset !== undefined ? { replset: values.replset } : {}),
  };
}

async function main(): Promise<void> {
  let args: MongoDevArgs;
  try {
    args = parseMongoDevArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`mongo:dev: ${error instanceof Error ? error.message : String(error)}`);
    console.error(
      'usage: npm run mongo:dev -- [--port 27018] [--host 127.0.0.1] [--replset NAME [--members 3]]',
    );
    process.exitCode = 2;
    return;
  }
  const log = (line: string): void => console.log(`[mongo:dev] ${line}`);
  console.warn(
    '[mongo:dev] WARNING: this is the MongoDB wire-protocol server from @nest-pools/testing, a test ' +
      'and development tool, not a database: data lives in memory and is lost on exit; there is no ' +
      'authentication, transactions or durability (replica-set members share one store). Use a ' +
      'real mongod for anything else.',
  );
  let server: { stop(): Promise<void> };
  if (args.replset !== undefined) {
    const rs = await MongoWireReplicaSet.start({
      name: args.replset,
      members: args.members,
      port: args.port,
      wire: { host: args.host, log },
    });
    server = rs;
    log(`replica set ${args.replset}: ${rs.hosts.join(', ')} (primary ${rs.hosts[0]})`);
    log(`connect with MONGODB_URL=${rs.url}/<database>?replicaSet=${args.replset}`);
  } else {
    const standalone = new MongoWireServer({ port: args.port, host: args.host, log });
    await standalone.start();
    server = standalone;
    log(`connect with MONGODB_URL=${standalone.url}/<database>`);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received, stopping`);
    server.stop().then(
      () => log('stopped'),
      (error: unknown) => {
        console.error(`[mongo:dev] stop failed: ${String(error)}`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`[mongo:dev] ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
