// Pool-size sweep: MongoDB `maxPoolSize`, Redis dedicated connections (`maxConnections`) and the
// HTTP per-host socket limit at 1, 5, 10, 20, 50, 100 and 200, each under 64 and 256 concurrent
// callers with 1 ms and 5 ms added per direction by the test kit's TCP fault proxy. The callers
// are a closed loop in this process on the pool modules themselves (a findOne, a GET on a
// dedicated connection, a GET to the GitHub stand-in); the servers run in the stack's child
// processes. Per cell: throughput, p99, the mean wait for a connection and the timeouts. The knee
// of a curve is the smallest pool size that reaches 90 % of that curve's best throughput. Each
// pool starts at its size (min = max), so the sweep measures the size, not how fast it grows;
// circuit breakers are off, so a saturated pool shows its timeouts instead of failing fast.
//
// Knobs: SWEEP_CELL_MS (measured time per cell, default 1500), SWEEP_POOLS (e.g. "mongo"),
// SWEEP_SIZES (e.g. "1,10,100"), SWEEP_CONCURRENCY, SWEEP_LATENCIES.
import 'reflect-metadata';

import { performance } from 'node:perf_hooks';

import { sweepChart, writeSvg } from './lib/charts.mjs';
import { knob, markdownTable, startSession } from './lib/session.mjs';
import { startStack } from './lib/stack.mjs';

const KNEE_SHARE = 0.9;
const WARM_UP_MS = 1000;
const list = (name, fallback) => (process.env[name] ?? fallback).split(',').map((s) => s.trim());

/** Percentile of a sorted array. */
const percentile = (sorted, p) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** Sum and count of a histogram family of the registry, and a counter's total. */
async function poolFigures(registry, histogram, counter) {
  const metrics = await registry.getMetricsAsJSON();
  const values = (name) => metrics.find((m) => m.name === name)?.values ?? [];
  const sumOf = (name, suffix) =>
    values(name)
      .filter((v) => v.metricName === `${name}${suffix}`)
      .reduce((s, v) => s + v.value, 0);
  return {
    waitSum: sumOf(histogram, '_sum'),
    waitCount: sumOf(histogram, '_count'),
    timeouts: values(counter).reduce((s, v) => s + v.value, 0),
  };
}

/**
 * One closed-loop cell: `callers` loops call `op` for `ms`; latencies in ms, errors counted.
 * `sample` is called every 20 ms (for queue lengths).
 */
async function closedLoop(op, callers, ms, sample, progress) {
  const latencies = [];
  let errors = 0;
  const end = performance.now() + ms;
  const started = performance.now();
  const sampler = setInterval(sample, 20);
  const ticker = setInterval(() => progress(latencies.length, started), 1000);
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await op();
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  clearInterval(sampler);
  clearInterval(ticker);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    reqPerSec: Math.round(latencies.length / seconds),
    p50Ms: Math.round(percentile(latencies, 0.5) * 100) / 100,
    p99Ms: Math.round(percentile(latencies, 0.99) * 100) / 100,
    errors,
    seconds,
  };
}

export default async function run() {
  const session = startSession('sweep', { maxMinutes: 10 });
  const cellMs = knob('SWEEP_CELL_MS', 1500);
  const pools = list('SWEEP_POOLS', 'mongo,redis,http');
  const sizes = list('SWEEP_SIZES', '1,5,10,20,50,100,200').map(Number);
  const concurrencies = list('SWEEP_CONCURRENCY', '64,256').map(Number);
  const latencies = list('SWEEP_LATENCIES', '1,5').map(Number);
  const [{ NestFactory }, { Module }, core, mongo, redis, http, rx] = await Promise.all([
    import('@nestjs/core'),
    import('@nestjs/common'),
    import('@nest-pools/core'),
    import('@nest-pools/mongo'),
    import('@nest-pools/redis'),
    import('@nest-pools/http'),
    import('rxjs'),
  ]);
  try {
    const stack = await startStack(['sweep']);
    session.track(() => stack.stop());
    const env = stack.envFor('sweep');

    /** Builds the module of `pool` at `size`: `{ op, sample, figures, close }`. */
    const setups = {
      async mongo(size) {
        const mod = moduleOf(
          mongo.MongoPoolModule.forRoot({
            url: env.MONGODB_URL,
            maxPoolSize: size,
            minPoolSize: size,
            waitQueueTimeoutMS: 2000,
            breakerEnabled: false,
          }),
        );
        const app = await NestFactory.createApplicationContext(mod, { logger: false });
        const connection = app.get(mongo.getMongoPoolToken());
        const collection = connection.collection('sweep');
        await collection.updateOne({ _id: 'k' }, { $set: { v: 1 } }, { upsert: true });
        const pools = app.get(mongo.MongoPoolService);
        await filled(async () => (await pools.getPoolStats()).current, size);
        return {
          app,
          op: () => collection.findOne({ _id: 'k' }),
          wait: (registry) =>
            poolFigures(
              registry,
              'db_client_connection_wait_time_seconds',
              'db_client_connection_timeouts_total',
            ),
        };
      },
      async redis(size) {
        const mod = moduleOf(
          redis.RedisPoolModule.forRoot({
            url: env.REDIS_URL,
            maxConnections: size,
            minConnections: size,
            acquireTimeoutMs: 2000,
            breakerEnabled: false,
          }),
        );
        const app = await NestFactory.createApplicationContext(mod, { logger: false });
        const service = app.get(redis.RedisPoolService);
        await filled(() => service.getPoolStats().created, size);
        return {
          app,
          op: () => service.withConnection('default', (c) => c.get('sweep')),
          wait: (registry) =>
            poolFigures(
              registry,
              'db_client_connection_wait_time_seconds',
              'db_client_connection_timeouts_total',
            ),
        };
      },
      async http(size) {
        const mod = moduleOf(
          http.HttpPoolModule.forRoot({
            baseURL: env.GITHUB_API_URL,
            limitPerHost: size,
            poolLimit: Math.max(size, 100),
            retries: 0,
            timeoutTotalMs: 2000,
            breakerEnabled: false,
          }),
        );
        const app = await NestFactory.createApplicationContext(mod, { logger: false });
        const service = app.get(http.HttpPoolService);
        const client = app.get(http.getHttpPoolToken());
        const path = `/gists/${stack.emptyGistId}`;
        // undici queues requests past the per-host limit itself: the mean wait comes from the
        // mean queue length over the throughput (Little's law).
        let pendingSum = 0;
        let samples = 0;
        return {
          app,
          op: () => rx.firstValueFrom(client.get(path)),
          sample: () => {
            pendingSum += service.getPoolStats().pending;
            samples++;
          },
          wait: () => {
            const figures = { meanPending: samples ? pendingSum / samples : 0 };
            pendingSum = 0;
            samples = 0;
            return figures;
          },
        };
      },
    };

    /**
     * Waits (10 s at most) until the pool holds `size` connections: pools start at their size
     * (`min` = `max`), opened on loopback before any latency is added, so a cell measures the
     * size and not how fast a driver grows its pool.
     */
    async function filled(count, size) {
      const until = Date.now() + 10_000;
      while ((await count()) < size && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    function moduleOf(poolModule) {
      class SweepModule {}
      Module({ imports: [core.PoolMetricsModule, poolModule] })(SweepModule);
      return SweepModule;
    }

    const rows = [];
    const cells = pools.length * sizes.length * latencies.length * concurrencies.length;
    for (const pool of pools) {
      for (const size of sizes) {
        const setup = await setups[pool](size);
        let closing;
        const close = () => (closing ??= setup.app.close());
        session.track(close);
        const registry = setup.app.get(core.POOL_METRICS_REGISTRY);
        for (const latencyMs of latencies) {
          await stack.latency(latencyMs);
          for (const concurrency of concurrencies) {
            const label = `[${rows.length + 1}/${cells}] ${pool} size ${size} +${latencyMs} ms @${concurrency}`;
            const progress = (done, started) =>
              process.stderr.write(
                `  ${label}  ${session.elapsedS()} s  ${done} ops  ${Math.round(done / ((performance.now() - started) / 1000))} ops/s\n`,
              );
            // The warm-up opens the connections this concurrency uses (drivers open a few at a time).
            await closedLoop(
              setup.op,
              concurrency,
              WARM_UP_MS,
              () => undefined,
              () => undefined,
            );
            const before = await setup.wait(registry);
            const result = await closedLoop(
              setup.op,
              concurrency,
              cellMs,
              setup.sample ?? (() => undefined),
              progress,
            );
            const after = await setup.wait(registry);
            const waitMs =
              pool === 'http'
                ? (after.meanPending / Math.max(1, result.reqPerSec)) * 1000
                : ((after.waitSum - before.waitSum) /
                    Math.max(1, after.waitCount - before.waitCount)) *
                  1000;
            rows.push({
              pool,
              poolSize: size,
              latencyMs,
              concurrency,
              reqPerSec: result.reqPerSec,
              p50Ms: result.p50Ms,
              p99Ms: result.p99Ms,
              meanWaitMs: Math.round(waitMs * 100) / 100,
              timeouts: pool === 'http' ? result.errors : after.timeouts - before.timeouts,
              errors: result.errors,
            });
          }
        }
        await stack.latency(0);
        await close();
      }
    }

    const knees = [];
    for (const pool of pools) {
      for (const latencyMs of latencies) {
        for (const concurrency of concurrencies) {
          const curve = rows.filter(
            (r) => r.pool === pool && r.latencyMs === latencyMs && r.concurrency === concurrency,
          );
          const best = Math.max(...curve.map((r) => r.reqPerSec));
          const knee = curve.find((r) => r.reqPerSec >= KNEE_SHARE * best);
          knees.push({
            pool,
            latencyMs,
            concurrency,
            poolSize: knee.poolSize,
            bestReqPerSec: best,
          });
        }
      }
    }

    console.log('\n### Sweep (ops/s · p99 ms · mean wait ms · timeouts)\n');
    const header = ['pool', 'added', 'callers', ...sizes.map(String), 'knee'];
    console.log(
      markdownTable(
        header,
        knees.map((k) => [
          k.pool,
          `+${k.latencyMs} ms`,
          k.concurrency,
          ...sizes.map((size) => {
            const r = rows.find(
              (x) =>
                x.pool === k.pool &&
                x.latencyMs === k.latencyMs &&
                x.concurrency === k.concurrency &&
                x.poolSize === size,
            );
            return `${r.reqPerSec} · ${r.p99Ms} · ${r.meanWaitMs} · ${r.timeouts}`;
          }),
          k.poolSize,
        ]),
      ),
    );
    const path = session.writeJson({
      settings: { cellMs, pools, sizes, concurrencies, latencies, kneeShare: KNEE_SHARE },
      rows,
      knees,
    });
    await writeSvg(
      session.file('sweep-throughput.svg'),
      await sweepChart(rows, knees, { metric: 'rps' }),
    );
    await writeSvg(session.file('sweep-p99.svg'), await sweepChart(rows, knees, { metric: 'p99' }));
    console.log(`\nwrote ${path} (${session.elapsedS()} s)`);
  } finally {
    await session.close();
  }
}
