#!/usr/bin/env node
/**
 * Runs {@link MongoWireServer} in the foreground for local development:
 * `npm run mongo:dev -- --port 27018 [--host 127.0.0.1]`. Stops on SIGINT/SIGTERM.
 *
 * @example
 * ```sh
 * npm run mongo:dev -- --port 27018
 * MONGODB_URL=mongodb://127.0.0.1:27018/codebot npm start
 * ```
 * @module
 */
import { parseArgs } from 'node:util';

import { MongoWireServer } from '../mongo/mongo-wire-server.js';

/** Default port of the development server (27017 is left to a real mongod). */
const MONGO_DEV_DEFAULT_PORT = 27018;

/** Parsed command line of `mongo:dev`. */
interface MongoDevArgs {
  /** @default 27018 */
  port: number;
  /** @default '127.0.0.1' */
  host: string;
}

/** Parses `--port` and `--host`; throws a message that says what is accepted. */
function parseMongoDevArgs(argv: string[]): MongoDevArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string', short: 'h' },
    },
    strict: true,
  });
  const port = values.port === undefined ? MONGO_DEV_DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer between 0 and 65535, got "${values.port}"`);
  }
  return { port, host: values.host ?? '127.0.0.1' };
}

async function main(): Promise<void> {
  let args: MongoDevArgs;
  try {
    args = parseMongoDevArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`mongo:dev: ${error instanceof Error ? error.message : String(error)}`);
    console.error('usage: npm run mongo:dev -- [--port 27018] [--host 127.0.0.1]');
    process.exitCode = 2;
    return;
  }
  const log = (line: string): void => console.log(`[mongo:dev] ${line}`);
  console.warn(
    '[mongo:dev] WARNING: this is the MongoDB wire-protocol server from @nest-pools/testing, a test ' +
      'and development tool, not a database: data lives in memory and is lost on exit; there is no ' +
      'authentication, replication, transactions or durability. Use a real mongod for anything else.',
  );
  const server = new MongoWireServer({ port: args.port, host: args.host, log });
  await server.start();
  log(`connect with MONGODB_URL=${server.url}/<database>`);
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
