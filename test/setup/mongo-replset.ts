// Setup file of the `e2e-replset` Jest project: the Mongo suites' harness (test/support/mongo.ts)
// starts a three-member wire replica set instead of a standalone server.
process.env.MONGO_TOPOLOGY = 'replset';
