// Redis benchmark: the module's main client against raw ioredis (16 and 64 commands in flight,
// measured in the same run, interleaved), auto-pipelining on vs off, and the cost of borrowing
// a dedicated connection. Starts its own redis-server through @nest-pools/testing.
import { performance } from 'node:perf_hooks';

import { RedisPoolModule, RedisPoolService } from '@nest-pools/redis';
import { startRedis } from '@nest-pools/testing';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const KEY = 'bench:key';

/**
 * `inFlight` concurrent callers each awaiting one GET at a time, for `DURATION_MS`: commands per
 * second (wall clock) and this process' CPU time per command (user + system, µs). On a shared,
 * loaded machine the CPU cost is the steadier measure of what the client itself costs.
 */
async function sample(client, inFlight) {
  let ops = 0;
  const deadline = performance.now() + DURATION_MS;
  const worker = async () => {
    while (performance.now() < deadline) {
      await client.get(KEY);
      ops++;
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { ops: ops / elapsed, cpuUs: (used.user + used.system) / ops };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Short samples of every contender in a rotating order, `ROUNDS` times. Ratios are taken per
 * round between neighbouring samples (which share the machine's load of the moment), and the
 * medians reported.
 */
async function compare(contenders, inFlight) {
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const result = {};
    for (let i = 0; i < contenders.length; i++) {
      const [name, client] = contenders[(i + round) % contenders.length];
      result[name] = await sample(client, inFlight);
    }
    rounds.push(result);
  }
  const of = (fn) => median(rounds.map(fn));
  return { rounds, of };
}

async function moduleApp(url, name, autoPipelining) {
  class BenchModule {}
  Module({ imports: [RedisPoolModule.forRoot({ name, url, autoPipelining, maxConnections: 4 })] })(
    BenchModule,
  );
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  const pools = app.get(RedisPoolService);
  const client = pools.getClient(name);
  await client.ping();
  return { app, pools, client };
}

async function perOp(fn, iterations) {
  for (let i = 0; i < 200; i++) await fn();
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  return ((performance.now() - started) * 1000) / iterations;
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');

export default async function run() {
  const server = await startRedis();
  // ioredis with its defaults, and ioredis given the same timeouts the module sets by default
  // (REDIS_SOCKET_TIMEOUT=2 s as command and socket timeout): the first ratio is the full cost
  // of the module's defaults, the second the cost of the module itself.
  const rawClient = (autoPipelining, safety) =>
    new Redis(server.url, {
      enableAutoPipelining: autoPipelining,
      ...(safety && {
        commandTimeout: 2000,
        socketTimeout: 2000,
        autoPipeliningIgnoredCommands: ['ping'],
      }),
    });
  const raw = { on: rawClient(true, false), off: rawClient(false, false) };
  const tuned = { on: rawClient(true, true), off: rawClient(false, true) };
  const mod = {
    on: await moduleApp(server.url, 'on', true),
    off: await moduleApp(server.url, 'off', false),
  };
  try {
    await raw.on.set(KEY, 'x'.repeat(32));
    console.log(
      `redis-server ${server.url}; ${DURATION_MS} ms samples, ${ROUNDS} rotating rounds, medians`,
    );
    console.log('\nGET throughput (ops/s): module main client vs raw ioredis, same run');
    console.log(
      '| auto-pipelining | in flight | raw ioredis (defaults) | raw ioredis + same timeouts | module | module / raw | module / raw + timeouts |',
    );
    console.log('|---|---|---|---|---|---|---|');
    const pipelining = {};
    const cpuRows = [];
    for (const mode of ['on', 'off']) {
      for (const inFlight of [16, 64]) {
        const { of } = await compare(
          [
            ['raw', raw[mode]],
            ['tuned', tuned[mode]],
            ['module', mod[mode].client],
          ],
          inFlight,
        );
        pipelining[`${mode}:${inFlight}`] = of((r) => r.module.ops);
        console.log(
          `| ${mode} | ${inFlight} | ${fmt(of((r) => r.raw.ops))} | ${fmt(of((r) => r.tuned.ops))} | ${fmt(of((r) => r.module.ops))} | ${of((r) => r.module.ops / r.raw.ops).toFixed(3)} | ${of((r) => r.module.ops / r.tuned.ops).toFixed(3)} |`,
        );
        cpuRows.push(
          `| ${mode} | ${inFlight} | ${of((r) => r.raw.cpuUs).toFixed(2)} | ${of((r) => r.tuned.cpuUs).toFixed(2)} | ${of((r) => r.module.cpuUs).toFixed(2)} | ${of((r) => r.raw.cpuUs / r.module.cpuUs).toFixed(3)} | ${of((r) => r.tuned.cpuUs / r.module.cpuUs).toFixed(3)} |`,
        );
      }
    }
    console.log(
      '\nClient CPU per GET (µs, this process), same samples; ratio = raw cost / module cost',
    );
    console.log(
      '| auto-pipelining | in flight | raw ioredis (defaults) | raw ioredis + same timeouts | module | raw / module | raw + timeouts / module |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const row of cpuRows) console.log(row);
    console.log('\nAuto-pipelining effect on the module client (ops/s)');
    console.log('| in flight | off | on | on / off |');
    console.log('|---|---|---|---|');
    for (const inFlight of [16, 64]) {
      const on = pipelining[`on:${inFlight}`];
      const off = pipelining[`off:${inFlight}`];
      console.log(`| ${inFlight} | ${fmt(off)} | ${fmt(on)} | ${(on / off).toFixed(2)} |`);
    }

    const pools = mod.on.pools;
    const iterations = 2000;
    const getMain = await perOp(() => mod.on.client.get(KEY), iterations);
    const borrow = await perOp(() => pools.withConnection('on', () => undefined), iterations);
    const borrowGet = await perOp(() => pools.withConnection('on', (c) => c.get(KEY)), iterations);
    console.log('\nDedicated connections (sequential, µs per operation)');
    console.log('| operation | µs/op |');
    console.log('|---|---|');
    console.log(`| GET on the main client | ${getMain.toFixed(1)} |`);
    console.log(
      `| withConnection, empty (acquire + PING validation + release) | ${borrow.toFixed(1)} |`,
    );
    console.log(`| withConnection + GET | ${borrowGet.toFixed(1)} |`);
    const stats = pools.getPoolStats('on');
    console.log(
      `(dedicated pool after the run: created ${stats.created}, in use ${stats.inUse}, max ${stats.max})`,
    );
  } finally {
    for (const client of [raw.on, raw.off, tuned.on, tuned.off]) client.disconnect();
    await mod.on.app.close();
    await mod.off.app.close();
    await server.stop();
  }
}
