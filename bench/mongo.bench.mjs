// MongoDB benchmark: a findOne through the module's pooled connection against a raw driver
// MongoClient with the same pool options, 16 and 64 operations in flight, measured in the same
// run and interleaved. The server is MONGODB_TEST_URL when set, else the wire-protocol test
// server from @nest-pools/testing in a child process (so its work does not share this event loop).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { parseMongoPoolConfig } from '@nest-pools/mongo';
import {
  getMongoPoolToken,
  MongoPoolModule,
  MongoPoolService,
  toMongoDriverOptions,
} from '@nest-pools/mongo';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MongoClient } from 'mongodb';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 1500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DOCS = 100;
const POOL = { maxPoolSize: 100, minPoolSize: 0 };

/** The wire server in its own process; resolves with its URL and a stop function. */
async function startWireServer() {
  const script = [
    "import { MongoWireServer } from '@nest-pools/testing';",
    'const server = await MongoWireServer.create();',
    "process.stdout.write(server.url + '\\n');",
    "process.stdin.on('end', () => server.stop().then(() => process.exit(0)));",
    'process.stdin.resume();',
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  return {
    url: `${line}/bench?directConnection=true`,
    label: `wire-protocol test server (child process) ${line}`,
    stop: async () => {
      child.stdin.end();
      await once(child, 'exit');
    },
  };
}

export async function startServer() {
  const external = process.env.MONGODB_TEST_URL;
  if (external) {
    const url = new URL(external.replace(/^mongodb(\+srv)?:/, 'http:'));
    return {
      url: external,
      label: `MONGODB_TEST_URL (${url.host})`,
      stop: async () => {},
    };
  }
  return startWireServer();
}

/**
 * Operations per second with `inFlight` concurrent callers each awaiting one findOne at a time,
 * and this process's CPU time per operation (driver + module work; the server runs elsewhere).
 */
async function throughput(collection, inFlight, durationMs = DURATION_MS) {
  let ops = 0;
  const cpu = process.cpuUsage();
  const deadline = performance.now() + durationMs;
  const worker = async (w) => {
    for (let i = w; performance.now() < deadline; i += inFlight) {
      await collection.findOne({ _id: i % DOCS });
      ops++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w)));
  const used = process.cpuUsage(cpu);
  return {
    opsPerSec: ops / ((performance.now() - started) / 1000),
    cpuUsPerOp: (used.user + used.system) / ops,
  };
}

/** Median of `ROUNDS` interleaved measurements per contender, so drift hits both alike. */
async function compare(contenders, inFlight) {
  for (const [, collection] of contenders) await throughput(collection, inFlight, 300);
  const samples = new Map(contenders.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const [name, collection] of order) {
      samples.get(name).push(await throughput(collection, inFlight));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return new Map(
    [...samples].map(([name, xs]) => [
      name,
      {
        opsPerSec: median(xs.map((x) => x.opsPerSec)),
        cpuUsPerOp: median(xs.map((x) => x.cpuUsPerOp)),
      },
    ]),
  );
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');

export default async function run() {
  const server = await startServer();
  const config = parseMongoPoolConfig({}, { url: server.url, ...POOL });
  const raw = new MongoClient(server.url, toMongoDriverOptions(config));
  class BenchModule {}
  Module({ imports: [MongoPoolModule.forRoot({ url: server.url, ...POOL })] })(BenchModule);
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  try {
    await raw.connect();
    const connection = app.get(getMongoPoolToken());
    await connection.asPromise();
    const seed = raw.db().collection('bench');
    await seed.deleteMany({});
    await seed.insertMany(
      Array.from({ length: DOCS }, (_, i) => ({ _id: i, text: 'x'.repeat(64) })),
    );
    const pool = app.get(MongoPoolService).getPool();
    const contenders = [
      ['raw', raw.db().collection('bench')],
      ['module', connection.db.collection('bench')],
      ['moduleClient', pool.client.db().collection('bench')],
    ];
    console.log(
      `${server.label}; ${DURATION_MS} ms per sample, median of ${ROUNDS} interleaved rounds; ` +
        `maxPoolSize ${POOL.maxPoolSize} on all`,
    );
    console.log(
      '\nfindOne by _id (ops/s; CPU µs/op of this process): raw driver MongoClient, the module ' +
        "connection's `db.collection()`, and the module's driver client (`getPool().client`)",
    );
    console.log(
      '| in flight | raw ops/s | module ops/s | module / raw | module client ops/s | module client / raw | raw CPU µs/op | module CPU µs/op | module client CPU µs/op |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const inFlight of [16, 64]) {
      const result = await compare(contenders, inFlight);
      const r = result.get('raw');
      const m = result.get('module');
      const c = result.get('moduleClient');
      console.log(
        `| ${inFlight} | ${fmt(r.opsPerSec)} | ${fmt(m.opsPerSec)} | ` +
          `${(m.opsPerSec / r.opsPerSec).toFixed(3)} | ${fmt(c.opsPerSec)} | ` +
          `${(c.opsPerSec / r.opsPerSec).toFixed(3)} | ${r.cpuUsPerOp.toFixed(1)} | ` +
          `${m.cpuUsPerOp.toFixed(1)} | ${c.cpuUsPerOp.toFixed(1)} |`,
      );
    }
    const stats = await app.get(MongoPoolService).getPoolStats();
    console.log(
      `(module pool after the run: ${stats.current} open, ${stats.totalCreated} created, ` +
        `${stats.checkOutTimeouts} wait-queue timeouts)`,
    );
  } finally {
    await raw.close();
    await app.close();
    await server.stop();
  }
}
