// Soak: 200,000 requests through CodeBot's endpoints (a mix of cache hits and misses, writes,
// GitHub imports and readiness probes) after a warm-up, with redis-server restarted at one third
// and the MongoDB wire server at two thirds of the requests. Every 5 s it samples the app's RSS,
// heap used and reserved, external memory, event-loop lag and active handles (from its /metrics)
// and the sockets each pool holds, counted server-side at the proxies; the app runs with
// --trace-gc, so the live heap after every full collection is known exactly. Checked: RSS drift
// (floors) and live-heap drift from the first to the last quarter after the warm-up, socket counts
// before each restart and after it, and the sockets still open once the app has stopped.
//
// Knobs: SOAK_REQUESTS (default 200000), SOAK_WARMUP_S (default 10), SOAK_CONNECTIONS (64).
import { soakChart, writeSvg } from './lib/charts.mjs';
import { endpoints, seed, startBenchApp } from './lib/endpoints.mjs';
import { runLoad } from './lib/load-runner.mjs';
import { knob, markdownTable, printGoals, startSession } from './lib/session.mjs';
import { startStack } from './lib/stack.mjs';

const SAMPLE_EVERY_MS = 5000;
const SERVICES = ['mongo', 'redis', 'github'];
const STACK = 'soak';
/** `--trace-gc`'s line for a full collection: `Mark-Compact 120.3 (150.2) -> 52.1 (151.0) MB`. */
const FULL_GC = /Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/;

/** The value of an unlabelled (or first) series of `name` in Prometheus text. */
function metricValue(text, name, labels = '') {
  const match = new RegExp(`^${name}(?:\\{[^}]*${labels}[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * The socket bounds of each pool, from the app's own pool gauges: MongoDB between its minimum
 * and maximum pool size, plus the driver's two monitoring sockets; Redis the main connection plus
 * at most the dedicated pool's maximum.
 */
function poolBounds(text) {
  const of = (name, system) =>
    metricValue(text, name, `db_client_connection_pool_name="default",db_system_name="${system}"`);
  return {
    mongo: {
      min: of('db_client_connection_idle_min', 'mongodb') ?? 0,
      max: (of('db_client_connection_max', 'mongodb') ?? Infinity) + 2,
    },
    redis: { min: 1, max: 1 + (of('db_client_connection_max', 'redis') ?? Infinity) },
  };
}

/** Mixed traffic: every connection cycles through these requests in order. */
function mixedRequests(all) {
  const order = ['cache hit', 'cache hit', 'cache miss', 'write', 'cache hit', 'upstream', 'ready'];
  return order.flatMap((name) => all[name].requests);
}

export default async function run() {
  const session = startSession('soak', { maxMinutes: 10 });
  const amount = knob('SOAK_REQUESTS', 200_000);
  const warmupS = knob('SOAK_WARMUP_S', 10);
  const connections = knob('SOAK_CONNECTIONS', 64);
  try {
    const stack = await startStack([STACK]);
    session.track(() => stack.stop());
    // Every full collection (V8's --trace-gc line for a Mark-Compact) gives the live heap after it:
    // the floor of the sawtooth, read exactly instead of guessed from 5 s samples.
    const fullGcs = [];
    const started = Date.now();
    let phase = 'idle';
    const app = await startBenchApp(
      stack,
      'nest-pools',
      {},
      {
        proxies: STACK,
        nodeArgs: ['--trace-gc'],
        onLine: (line) => {
          const gc = FULL_GC.exec(line);
          if (!gc) return;
          fullGcs.push({
            t: Math.round((Date.now() - started) / 100) / 10,
            phase,
            liveMb: Number(gc[1]),
            committedMb: Number(gc[2]),
          });
        },
      },
    );
    let appStopped = false;
    session.track(() => (appStopped ? undefined : app.stop()));
    await seed(app.url, STACK);
    const all = endpoints({ tag: STACK, emptyGistId: stack.emptyGistId });
    const requests = mixedRequests(all);
    const okStatuses = [200, 201, 204, 404, 422];

    const samples = [];
    const events = [];
    let bounds;
    const sample = async () => {
      const [text, counts] = await Promise.all([
        fetch(`${app.url}/metrics`).then((r) => r.text()),
        stack.counts(),
      ]);
      bounds ??= poolBounds(text);
      const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
      samples.push({
        t: Math.round((Date.now() - started) / 100) / 10,
        phase,
        rssMb: mb(metricValue(text, 'process_resident_memory_bytes')),
        heapUsedMb: mb(metricValue(text, 'nodejs_heap_size_used_bytes')),
        heapTotalMb: mb(metricValue(text, 'nodejs_heap_size_total_bytes')),
        externalMb: mb(metricValue(text, 'nodejs_external_memory_bytes')),
        eventLoopLagP99Ms:
          Math.round(metricValue(text, 'nodejs_eventloop_lag_p99_seconds') * 1e4) / 10,
        activeHandles: metricValue(text, 'nodejs_active_handles_total'),
        sockets: Object.fromEntries(SERVICES.map((s) => [s, counts[STACK][s].open])),
      });
    };
    await sample();
    const sampler = setInterval(() => void sample().catch(() => undefined), SAMPLE_EVERY_MS);
    session.track(() => clearInterval(sampler));

    phase = 'warm-up';
    await runLoad({
      url: app.url,
      connections,
      durationS: warmupS,
      requests,
      okStatuses,
      label: 'warm-up',
    });
    phase = 'soak';
    const restarts = [
      { at: Math.floor(amount / 3), label: 'Redis restart', run: () => stack.restartRedis() },
      {
        at: Math.floor((2 * amount) / 3),
        label: 'MongoDB restart',
        run: () => stack.restartMongo(),
      },
    ];
    const restartRuns = [];
    const result = await runLoad({
      url: app.url,
      connections,
      amount,
      maxS: 420,
      requests,
      okStatuses,
      label: `soak ${amount.toLocaleString('en-US')} requests`,
      onResponse: (done) => {
        const next = restarts.find((r) => !r.started && done >= r.at);
        if (!next) return;
        next.started = true;
        const t = Math.round((Date.now() - started) / 100) / 10;
        events.push({ t, label: next.label });
        const socketsBefore = samples.at(-1)?.sockets;
        restartRuns.push(
          next.run().then(async () => {
            // Settled when the pools have reconnected: 15 s, three samples, after the restart.
            await new Promise((resolve) => setTimeout(resolve, 15_000));
            return { label: next.label, t, socketsBefore, socketsAfter: samples.at(-1)?.sockets };
          }),
        );
      },
    });
    phase = 'cool-down';
    const restartResults = await Promise.all(restartRuns);
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS + 500));
    clearInterval(sampler);
    await sample();
    const endHandles = samples.at(-1).activeHandles;
    const startHandles = samples[0].activeHandles;

    await app.stop();
    appStopped = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const leaked = (await stack.counts())[STACK];

    const soaking = samples.filter((s) => s.phase === 'soak');
    const quarter = Math.max(1, Math.floor(soaking.length / 4));
    // RSS is a sawtooth too (the heap grows and shrinks its pages): drift compares the lowest
    // sample of the first and the last quarter, with the quarters' means beside them.
    const stats = (list, key) => ({
      floor: Math.min(...list.map((s) => s[key])),
      mean: list.reduce((sum, s) => sum + s[key], 0) / list.length,
    });
    const drift = (key) => {
      const first = stats(soaking.slice(0, quarter), key);
      const last = stats(soaking.slice(-quarter), key);
      return {
        firstMb: round(first.floor),
        lastMb: round(last.floor),
        percent: round(((last.floor - first.floor) / first.floor) * 100),
        meansMb: [round(first.mean), round(last.mean)],
      };
    };
    // The heap's live set: the size after each full collection, averaged over the first and the
    // last quarter of the soak by time (a quarter without one takes the nearest before its end).
    const soakStart = soaking[0]?.t ?? 0;
    const soakEnd = soaking.at(-1)?.t ?? soakStart;
    const span = soakEnd - soakStart;
    const gcsDuring = fullGcs.filter((g) => g.phase === 'soak');
    const liveIn = (from, to) => {
      const inside = gcsDuring.filter((g) => g.t >= from && g.t <= to);
      const chosen = inside.length > 0 ? inside : gcsDuring.filter((g) => g.t <= to).slice(-1);
      return chosen.length === 0
        ? undefined
        : {
            mb: chosen.reduce((sum, g) => sum + g.liveMb, 0) / chosen.length,
            count: inside.length,
          };
    };
    const firstLive = liveIn(soakStart, soakStart + span / 4);
    const lastLive = liveIn(soakEnd - span / 4, soakEnd);
    const heapDrift =
      firstLive && lastLive
        ? {
            firstMb: round(firstLive.mb),
            lastMb: round(lastLive.mb),
            percent: round(((lastLive.mb - firstLive.mb) / firstLive.mb) * 100),
            fullCollections: [firstLive.count, lastLive.count],
          }
        : undefined;
    // Where RSS went: the V8 heap's reserved pages, memory outside it that V8 knows of (buffers),
    // and the rest (code, native libraries, allocator arenas).
    const floors = (list) => ({
      rss: stats(list, 'rssMb').floor,
      heapTotal: stats(list, 'heapTotalMb').floor,
      external: stats(list, 'externalMb').floor,
    });
    const [firstFloors, lastFloors] = [
      floors(soaking.slice(0, quarter)),
      floors(soaking.slice(-quarter)),
    ];
    const rssParts = {
      heapTotalMb: [round(firstFloors.heapTotal), round(lastFloors.heapTotal)],
      externalMb: [round(firstFloors.external), round(lastFloors.external)],
      otherMb: [
        round(firstFloors.rss - firstFloors.heapTotal - firstFloors.external),
        round(lastFloors.rss - lastFloors.heapTotal - lastFloors.external),
      ],
    };
    const summary = {
      requests: result.requests,
      ok: result.ok,
      errors: result.errors,
      statusCodes: result.statusCodes,
      reqPerSec: result.reqPerSec,
      latencyMs: result.latencyMs,
      durationS: result.durationS,
      rssDrift: drift('rssMb'),
      rssParts,
      heapDrift,
      heapSampleDrift: drift('heapUsedMb'),
      eventLoopLagP99MsMax: Math.max(...soaking.map((s) => s.eventLoopLagP99Ms)),
      activeHandles: { atStart: startHandles, atEnd: endHandles },
      restarts: restartResults,
      openAfterStop: Object.fromEntries(SERVICES.map((s) => [s, leaked[s].open])),
    };
    summary.goals = [
      {
        goal: 'RSS drift < 5 %',
        value: `${summary.rssDrift.percent} %`,
        met: Math.abs(summary.rssDrift.percent) < 5,
      },
      {
        goal: 'heap drift < 5 % (live heap after full collections)',
        value: heapDrift ? `${heapDrift.percent} %` : 'no full collection during the soak',
        met: heapDrift !== undefined && Math.abs(heapDrift.percent) < 5,
      },
      ...restartResults.map((r) => ({
        goal: `sockets back within the pool sizes after the ${r.label}`,
        value: `${fmt(r.socketsBefore)} → ${fmt(r.socketsAfter)} (MongoDB ${bounds.mongo.min}–${bounds.mongo.max}, Redis ${bounds.redis.min}–${bounds.redis.max})`,
        // Each store's pool reconnected within its configured bounds (the count inside them
        // follows the load of the moment); the untouched GitHub client kept its sockets.
        met:
          ['mongo', 'redis'].every((s) => {
            const after = r.socketsAfter?.[s] ?? 0;
            return after >= bounds[s].min && after <= bounds[s].max;
          }) && (r.socketsAfter?.github ?? 0) <= (r.socketsBefore?.github ?? 0),
      })),
      {
        goal: '0 sockets open after the app stopped',
        value: fmt(summary.openAfterStop),
        met: SERVICES.every((s) => summary.openAfterStop[s] === 0),
      },
    ];

    console.log(`\n### Soak: ${summary.requests.toLocaleString('en-US')} requests\n`);
    console.log(
      markdownTable(
        [
          'req/s',
          'p50 / p99 / p99.9 ms',
          'errors',
          'RSS floor first → last quarter',
          'of which heap reserved / external / other',
          'live heap after full GCs first → last quarter',
          'event-loop lag p99 max',
          'handles idle → end',
        ],
        [
          [
            summary.reqPerSec,
            `${result.latencyMs.p50} / ${result.latencyMs.p99} / ${result.latencyMs.p999}`,
            summary.errors,
            `${summary.rssDrift.firstMb} → ${summary.rssDrift.lastMb} MB (${summary.rssDrift.percent} %)`,
            ['heapTotalMb', 'externalMb', 'otherMb']
              .map((k) => `${rssParts[k][0]} → ${rssParts[k][1]}`)
              .join(' / ') + ' MB',
            heapDrift
              ? `${heapDrift.firstMb} → ${heapDrift.lastMb} MB (${heapDrift.percent} %; ${heapDrift.fullCollections.join(' and ')} collections)`
              : 'no full collection',
            `${summary.eventLoopLagP99MsMax} ms`,
            `${startHandles} → ${endHandles}`,
          ],
        ],
      ),
    );
    printGoals(summary.goals);
    const path = session.writeJson({
      settings: { amount, warmupS, connections },
      summary,
      events,
      samples,
      fullGcs,
    });
    await writeSvg(session.file('soak.svg'), await soakChart(samples, events, fullGcs));
    console.log(`\nwrote ${path} (${session.elapsedS()} s)`);
  } finally {
    await session.close();
  }
}

const round = (n) => Math.round(n * 10) / 10;
const fmt = (sockets) =>
  sockets ? SERVICES.map((s) => `${s} ${sockets[s]}`).join(', ') : 'no sample';
