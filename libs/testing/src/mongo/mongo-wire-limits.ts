/** Size limits mongod announces in `hello` and enforces; the wire server uses the same numbers. */

/** Largest user document (`maxBsonObjectSize`, 16 MiB). */
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;

/** Largest BSON object inside a message: a user document plus room for the command around it. */
export const MAX_BSON_INTERNAL_SIZE = MAX_BSON_OBJECT_SIZE + 16 * 1024;

/** Largest wire message (`maxMessageSizeBytes`); a bigger one makes mongod close the connection. */
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;

/** Most statements in one insert/update/delete command (`maxWriteBatchSize`). */
export const MAX_WRITE_BATCH_SIZE = 100_000;
