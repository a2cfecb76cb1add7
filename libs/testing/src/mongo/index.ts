export type {
  FailNextOptions,
  MongoWireServerOptions,
  WireConnectionStats,
} from './mongo-wire-options.js';
export type { WireTlsOptions } from './mongo-wire-options.js';
export type { ReplicaSetEvent, StartMongoReplicaSetOptions } from './mongo-wire-replset.js';
export { MongoWireReplicaSet, startMongoReplicaSet } from './mongo-wire-replset.js';
export { MongoWireServer } from './mongo-wire-server.js';
export type { MongoTestBackend, MongoTestBackendKind, StartMongoOptions } from './start-mongo.js';
export { startMongo, withDatabase } from './start-mongo.js';
