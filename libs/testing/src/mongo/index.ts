export type {
  FailNextOptions,
  MongoWireServerOptions,
  WireConnectionStats,
} from './mongo-wire-server.js';
export { MongoWireServer } from './mongo-wire-server.js';
