// Soak: 200,000 requests through CodeBot's endpoints (a mix of cache hits and misses, writes,
// GitHub imports and readiness probes) after a warm-up, with redis-server restarted at one third
// and the MongoDB wire server at two thirds of the requests. Every 5 s it samples the app's RSS,
// heap used, event-loop lag and active handles (from its /metrics) and the sockets each pool
// holds, counted server-side at the proxies. Checked: RSS and heap drift from the first to the
// last quarter after the warm-up, socket counts before each restart and after it, and the sockets
// still open once the app has stopped.
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

/** The value of an unlabelled (or first) series of `name` in Prometheus text. */
function metricValue(text, name) {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
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
    const app = await startBenchApp(stack, 'nest-pools', {}, { proxies: STACK });
    let appStopped = false;
    session.track(() => (appStopped ? undefined : app.stop()));
    await seed(app.url, STACK);
    const all = endpoints({ tag: STACK, emptyGistId: stack.emptyGistId });
    const requests = mixedRequests(all);
    const okStatuses = [200, 201, 204, 404, 422];

    const started = Date.now();
    let phase = 'idle';
    const samples = [];
    const events = [];
    const sample = async () => {
      const [text, counts] = await Promise.all([
        fetch(`${app.url}/metrics`).then((r) => r.text()),
        stack.counts(),
      ]);
      const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
      samples.push({
        t: Math.round((Date.now() - started) / 100) / 10,
        phase,
        rssMb: mb(metricValue(text, 'process_resident_memory_bytes')),
        heapUsedMb: mb(metricValue(text, 'nodejs_heap_size_used_bytes')),
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
    // The heap is a sawtooth between collections: a sample's height depends on when it fell in
    // the cycle. The lowest sample of a quarter is its live set after a collection, and RSS is
    // read the same way, so drift compares floors; the quarters' means are recorded beside them.
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
    const summary = {
      requests: result.requests,
      ok: result.ok,
      errors: result.errors,
      statusCodes: result.statusCodes,
      reqPerSec: result.reqPerSec,
      latencyMs: result.latencyMs,
      durationS: result.durationS,
      rssDrift: drift('rssMb'),
      heapDrift: drift('heapUsedMb'),
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
        goal: 'heap drift < 5 %',
        value: `${summary.heapDrift.percent} %`,
        met: Math.abs(summary.heapDrift.percent) < 5,
      },
      ...restartResults.map((r) => ({
        goal: `sockets back after the ${r.label}`,
        value: `${fmt(r.socketsBefore)} → ${fmt(r.socketsAfter)}`,
        // Back to what the pool held before the restart, within 20 % (at least 2 sockets).
        met: SERVICES.every((s) => {
          const before = r.socketsBefore?.[s] ?? 0;
          const after = r.socketsAfter?.[s] ?? 0;
          return Math.abs(after - before) <= Math.max(2, 0.2 * before);
        }),
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
          'heap used floor first → last quarter',
          'event-loop lag p99 max',
          'handles idle → end',
        ],
        [
          [
            summary.reqPerSec,
            `${result.latencyMs.p50} / ${result.latencyMs.p99} / ${result.latencyMs.p999}`,
            summary.errors,
            `${summary.rssDrift.firstMb} → ${summary.rssDrift.lastMb} MB (${summary.rssDrift.percent} %)`,
            `${summary.heapDrift.firstMb} → ${summary.heapDrift.lastMb} MB (${summary.heapDrift.percent} %)`,
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
    });
    await writeSvg(session.file('soak.svg'), await soakChart(samples, events));
    console.log(`\nwrote ${path} (${session.elapsedS()} s)`);
  } finally {
    await session.close();
  }
}

const round = (n) => Math.round(n * 10) / 10;
const fmt = (sockets) =>
  sockets ? SERVICES.map((s) => `${s} ${sockets[s]}`).join(', ') : 'no sample';
