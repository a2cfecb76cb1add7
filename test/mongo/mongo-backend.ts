import { type MongoTestBackend, startMongo, withDatabase } from '@nest-pools/testing';

/**
 * The server a Mongo suite runs against, from `startMongo()`: a real server when
 * `MONGODB_TEST_URL` is set (or a local mongod binary exists), the wire server otherwise.
 */
export interface MongoBackend {
  /** Which backend runs. */
  kind: MongoTestBackend['kind'];
  /** Connection string of a database of this suite, `<suite database>_<suffix>`. */
  url(suffix: string): string;
  /** The wire server, for fault injection and socket counts; absent for a real server. */
  wire?: MongoTestBackend['wire'];
  stop(): Promise<void>;
}

export async function startBackend(): Promise<MongoBackend> {
  const mongo = await startMongo({ dbPrefix: 'np' });
  const backend: MongoBackend = {
    kind: mongo.kind,
    url: (suffix) => withDatabase(mongo.url, `${mongo.dbName}_${suffix}`),
    stop: () => mongo.stop(),
  };
  if (mongo.wire !== undefined) backend.wire = mongo.wire;
  return backend;
}

/** Prints why a test is skipped (a skipped Jest test gives no reason). */
export function skipReason(reason: string): void {
  console.warn(`skipped: ${reason}`);
}
