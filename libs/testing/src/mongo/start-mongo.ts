import { randomBytes } from 'node:crypto';

import type { MongoWireServerOptions } from './mongo-wire-options.js';
import { MongoWireServer } from './mongo-wire-server.js';

/** Which backend {@link startMongo} picked. */
export type MongoTestBackendKind = 'external' | 'mongod' | 'wire';

/** A running MongoDB backend for one test suite. */
export interface MongoTestBackend {
  /** Connection string including a database name unique to this call. */
  url: string;
  /** The database name inside `url`. */
  dbName: string;
  /** `external` (MONGODB_TEST_URL), `mongod` (mongodb-memory-server) or `wire` (MongoWireServer). */
  kind: MongoTestBackendKind;
  /** The wire server when `kind === 'wire'`, for fault injection and observability. */
  wire?: MongoWireServer;
  /**
   * Releases the backend: stops the wire server or the mongod; for an external server, drops
   * the suite's database (best effort). Idempotent.
   */
  stop(): Promise<void>;
}

/** Options of {@link startMongo}. */
export interface StartMongoOptions {
  /**
   * Prefix of the generated database name (letters, digits, `_` and `-`).
   * @default 'test'
   */
  dbPrefix?: string;
  /**
   * Environment to read `MONGODB_TEST_URL` from. mongodb-memory-server reads its own `MONGOMS_*`
   * variables (`MONGOMS_SYSTEM_BINARY`, `MONGOMS_VERSION`, `MONGOMS_DOWNLOAD_DIR`…) from
   * `process.env`.
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Receives the one line naming the backend that runs.
   * @default console.info
   */
  log?: (line: string) => void;
  /**
   * Options for the wire server when it is the backend.
   * @default {}
   */
  wire?: MongoWireServerOptions;
  /**
   * Look for a mongodb-memory-server binary (system or already cached; never downloaded).
   * @default true
   */
  tryMemoryServer?: boolean;
}

let sequence = 0;

/** A database name unique per call and process (≤ 63 chars, no forbidden characters). */
function uniqueDbName(prefix: string): string {
  sequence += 1;
  const safe = prefix.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 30) || 'test';
  return `${safe}_${process.pid}_${sequence}_${randomBytes(3).toString('hex')}`;
}

/** Puts `db` as the path of a mongodb:// or mongodb+srv:// URL, keeping hosts and query. */
export function withDatabase(url: string, db: string): string {
  const queryAt = url.indexOf('?');
  const base = queryAt >= 0 ? url.slice(0, queryAt) : url;
  const query = queryAt >= 0 ? url.slice(queryAt) : '';
  const schemeEnd = base.indexOf('://');
  if (schemeEnd < 0) {
    // The string is not echoed: without a scheme its password cannot be located to mask it.
    throw new Error('Not a MongoDB connection string: expected mongodb:// or mongodb+srv://');
  }
  const pathAt = base.indexOf('/', schemeEnd + 3);
  const authority = pathAt >= 0 ? base.slice(0, pathAt) : base;
  return `${authority}/${db}${query}`;
}

/** Hides the password of `user:password@` in a connection string. */
function maskUserinfo(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

interface MemoryServerLike {
  getUri(otherDb?: string): string;
  stop(): Promise<boolean>;
}

interface MemoryServerModule {
  DryMongoBinary: {
    generateOptions(): Promise<{ version: string; systemBinary: string } & Record<string, unknown>>;
    locateBinary(opts: { version: string }): Promise<string | undefined>;
  };
  MongoMemoryServer: {
    create(opts: {
      binary: { systemBinary: string };
      instance: { ip: string };
    }): Promise<MemoryServerLike>;
  };
}

/**
 * Finds a mongod binary without downloading: `MONGOMS_SYSTEM_BINARY`, else one already in the
 * mongodb-memory-server cache. Returns undefined when there is none (or the package is absent).
 */
async function locateMongodBinary(): Promise<
  { mod: MemoryServerModule; binary: string } | undefined
> {
  let mod: MemoryServerModule;
  try {
    const imported =
      (await import('mongodb-memory-server-core')) as unknown as Partial<MemoryServerModule> & {
        default?: MemoryServerModule;
      };
    mod = imported.DryMongoBinary
      ? (imported as MemoryServerModule)
      : (imported.default as MemoryServerModule);
  } catch {
    return undefined;
  }
  const opts = await mod.DryMongoBinary.generateOptions();
  // locateBinary only looks at the system binary and the download caches; it never downloads.
  const binary = await mod.DryMongoBinary.locateBinary(opts);
  return binary ? { mod, binary } : undefined;
}

/**
 * Starts the MongoDB backend for a suite and prints one line naming it:
 * 1. `MONGODB_TEST_URL` set → that real server (kind `external`);
 * 2. else a mongodb-memory-server `mongod` when a binary exists without downloading
 *    (`MONGOMS_SYSTEM_BINARY` or the binary cache) → kind `mongod`;
 * 3. else a {@link MongoWireServer} (kind `wire`, with `wire` set for fault injection).
 *
 * Each call gets its own database name, so suites never see each other's data. A
 * `MONGOMS_SYSTEM_BINARY` that points to no executable is an error, not a silent fallback.
 *
 * @example
 * ```ts
 * let mongo: MongoTestBackend;
 * beforeAll(async () => (mongo = await startMongo({ dbPrefix: 'users' })));
 * afterAll(() => mongo.stop());
 * it('connects', () => mongoose.createConnection(mongo.url).asPromise());
 * ```
 */
export async function startMongo(options: StartMongoOptions = {}): Promise<MongoTestBackend> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.info(line));
  const dbName = uniqueDbName(options.dbPrefix ?? 'test');

  const external = env.MONGODB_TEST_URL?.trim();
  if (external) {
    const url = withDatabase(external, dbName);
    log(`MongoDB backend: external server from MONGODB_TEST_URL (${maskUserinfo(url)})`);
    let stopped = false;
    return {
      url,
      dbName,
      kind: 'external',
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await dropExternalDatabase(url, dbName);
      },
    };
  }

  if (options.tryMemoryServer !== false) {
    const found = await locateMongodBinary();
    if (found) {
      const server = await found.mod.MongoMemoryServer.create({
        binary: { systemBinary: found.binary },
        instance: { ip: '127.0.0.1' },
      });
      const url = server.getUri(dbName);
      log(`MongoDB backend: mongod ${found.binary} via mongodb-memory-server (${url})`);
      let stopped = false;
      return {
        url,
        dbName,
        kind: 'mongod',
        stop: async () => {
          if (stopped) return;
          stopped = true;
          await server.stop();
        },
      };
    }
  }

  const wire = await MongoWireServer.create(options.wire);
  const url = wire.uri(dbName);
  log(`MongoDB backend: MongoWireServer (wire-protocol test server) at ${url}`);
  return { url, dbName, kind: 'wire', wire, stop: () => wire.stop() };
}

/** Drops the suite's database on a real server; failures are reported, never thrown. */
async function dropExternalDatabase(url: string, dbName: string): Promise<void> {
  try {
    const { MongoClient } = await import('mongodb');
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000 });
    try {
      await client.db(dbName).dropDatabase();
    } finally {
      await client.close();
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.warn(`startMongo: could not drop test database ${dbName}: ${message}`);
  }
}
