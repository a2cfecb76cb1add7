// Large-insert timing against the MongoDB wire-protocol test server (framing cost): one document
// of 2, 4, 8 and ~16 MiB inserted through the driver, best of ROUNDS. Not part of `npm run bench`;
// run after `npm run build` (or `tsc -b libs/testing/tsconfig.lib.json`):
//   node bench/mongo-wire-framing.mjs
import { performance } from 'node:perf_hooks';

import { MongoWireServer } from '@nest-pools/testing';
import { MongoClient } from 'mongodb';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MiB = 1024 * 1024;
// The 16 MiB case stays 1 KiB under maxBsonObjectSize so the server accepts it.
const SIZES = [2 * MiB, 4 * MiB, 8 * MiB, 16 * MiB - 1024];

const server = await MongoWireServer.create();
const client = await MongoClient.connect(server.uri('bench'));
const coll = client.db('bench').collection('framing');
try {
  for (const size of SIZES) {
    const payload = 'x'.repeat(size - 64);
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < ROUNDS; round += 1) {
      await coll.deleteMany({});
      const start = performance.now();
      await coll.insertOne({ payload });
      best = Math.min(best, performance.now() - start);
    }
    console.log(`${(size / MiB).toFixed(0).padStart(2)} MiB insert: ${(best / 1000).toFixed(3)} s`);
  }
} finally {
  await client.close();
  await server.stop();
}
