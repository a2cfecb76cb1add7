// Cost of per-operation metrics (db_client_operation_duration_seconds): the same module, two pools
// on the same server, one with MONGODB_/REDIS_OPERATION_METRICS on and one off. Redis GET on the
// main client and MongoDB findOne, 16 and 64 in flight, interleaved rounds in one run; reported as
// the median of per-round ratios (on / off) of throughput and of this process's CPU per operation.
// BENCH_DURATION_MS and BENCH_ROUNDS set the sample length and the number of rounds.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { getMongoPoolToken, MongoPoolModule } from '@nest-pools/mongo';
import { RedisPoolModule, RedisPoolService } from '@nest-pools/redis';
import { startRedis } from '@nest-pools/testing';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { startServer as startMongoServer } from './mongo.bench.mjs';

// Many short rounds: the median of per-round ratios settles to about ±1 % where a few long rounds
// leave the machine's ±5 % swings in it.
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31);
const DOCS = 100;
// OPERATION_METRICS_CONTROL=1 turns operation metrics on for the "off" pools too: the two columns
// then differ only by chance, which shows how far a ratio moves on this machine without any cost.
const CONTROL = process.env.OPERATION_METRICS_CONTROL === '1';

/** `inFlight` callers each awaiting one `op(i)` at a time for DURATION_MS. */
async function sample(op, inFlight) {
  let ops = 0;
  const deadline = performance.now() + DURATION_MS;
  const worker = async (w) => {
    for (let i = w; performance.now() < deadline; i += inFlight) {
      await op(i);
      ops++;
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w)));
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { ops: ops / elapsed, cpuUs: (used.user + used.system) / ops };
}

/** The value at fraction `q` of the sorted values (0.5: the median). */
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q + 0.5)];
const median = (xs) => quantile(xs, 0.5);

/** Rounds of off/on samples (order alternating); medians of the per-round ratios on / off. */
async function onVersusOff(off, on, inFlight) {
  await sample(off, inFlight);
  await sample(on, inFlight);
  const ratios = { ops: [], cpu: [] };
  const abs = { off: [], on: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const first = round % 2 === 0 ? ['off', off] : ['on', on];
    const second = round % 2 === 0 ? ['on', on] : ['off', off];
    const r = {};
    r[first[0]] = await sample(first[1], inFlight);
    r[second[0]] = await sample(second[1], inFlight);
    ratios.ops.push(r.on.ops / r.off.ops);
    ratios.cpu.push(r.on.cpuUs / r.off.cpuUs);
    abs.off.push(r.off);
    abs.on.push(r.on);
  }
  return {
    opsRatio: median(ratios.ops),
    // The middle half of the per-round ratios: how far one round strays.
    opsSpread: [quantile(ratios.ops, 0.25), quantile(ratios.ops, 0.75)],
    cpuRatio: median(ratios.cpu),
    off: median(abs.off.map((x) => x.ops)),
    on: median(abs.on.map((x) => x.ops)),
    offCpu: median(abs.off.map((x) => x.cpuUs)),
    onCpu: median(abs.on.map((x) => x.cpuUs)),
  };
}

async function app(imports) {
  class BenchModule {}
  Module({ imports })(BenchModule);
  return NestFactory.createApplicationContext(BenchModule, { logger: false });
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const pct = (ratio) => `${((ratio - 1) * 100).toFixed(1)} %`;

function row(name, inFlight, r) {
  console.log(
    `| ${name} | ${inFlight} | ${fmt(r.off)} | ${fmt(r.on)} | ${r.opsRatio.toFixed(3)} (${pct(r.opsRatio)}) | ` +
      `${r.opsSpread.map((x) => x.toFixed(3)).join('–')} | ` +
      `${r.offCpu.toFixed(1)} | ${r.onCpu.toFixed(1)} | ${r.cpuRatio.toFixed(3)} |`,
  );
}

export default async function run() {
  const redis = await startRedis();
  const mongo = await startMongoServer();
  const context = await app([
    RedisPoolModule.forRoot({
      name: 'off',
      url: redis.url,
      healthCheckIntervalMs: 0,
      operationMetrics: CONTROL,
    }),
    RedisPoolModule.forRoot({
      name: 'on',
      url: redis.url,
      healthCheckIntervalMs: 0,
      operationMetrics: true,
    }),
    MongoPoolModule.forRoot({
      name: 'off',
      url: mongo.url,
      maxPoolSize: 100,
      minPoolSize: 0,
      operationMetrics: CONTROL,
    }),
    MongoPoolModule.forRoot({
      name: 'on',
      url: mongo.url,
      maxPoolSize: 100,
      minPoolSize: 0,
      operationMetrics: true,
    }),
  ]);
  try {
    const pools = context.get(RedisPoolService);
    const redisOff = pools.getClient('off');
    const redisOn = pools.getClient('on');
    await redisOff.set('bench:key', 'x'.repeat(64));
    const mongoOff = context.get(getMongoPoolToken('off'));
    const mongoOn = context.get(getMongoPoolToken('on'));
    // The pools connect in the background (fail-fast off): wait until both are open.
    while (mongoOff.readyState !== 1 || mongoOn.readyState !== 1) {
      await sleep(20);
    }
    const seed = mongoOff.db.collection('bench');
    await seed.deleteMany({});
    await seed.insertMany(
      Array.from({ length: DOCS }, (_, i) => ({ _id: i, text: 'x'.repeat(64) })),
    );
    const collOff = mongoOff.db.collection('bench');
    const collOn = mongoOn.db.collection('bench');

    console.log(
      `redis-server ${redis.url}, MongoDB ${mongo.label}; ${DURATION_MS} ms per sample, ` +
        `median of ${ROUNDS} interleaved rounds of per-round ratios (metrics on / off)` +
        (CONTROL ? '; CONTROL RUN: metrics on in both columns' : ''),
    );
    console.log(
      '| operation | in flight | off ops/s | on ops/s | on / off | middle half of rounds | off CPU µs/op | on CPU µs/op | CPU on / off |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const inFlight of [16, 64]) {
      row(
        'Redis GET',
        inFlight,
        await onVersusOff(
          () => redisOff.get('bench:key'),
          () => redisOn.get('bench:key'),
          inFlight,
        ),
      );
    }
    for (const inFlight of [16, 64]) {
      row(
        'MongoDB findOne',
        inFlight,
        await onVersusOff(
          (i) => collOff.findOne({ _id: i % DOCS }),
          (i) => collOn.findOne({ _id: i % DOCS }),
          inFlight,
        ),
      );
    }
  } finally {
    await context.close();
    await Promise.all([redis.stop(), mongo.stop()]);
  }
}
