// Health storm: 500 concurrent connections calling `/health/ready` for a few seconds, on CodeBot
// (nest-pools: each pool's check is cached briefly and concurrent probes share one ping) and on
// the anchors app (Terminus's indicators as their READMEs show them: one ping per probe). The
// servers count the pings they answer (MongoDB `ping` commands, Redis PING calls, `GET /` on the
// GitHub and Telegram stand-ins); an idle window of the same length before each storm gives the
// background rate (periodic pings) to subtract. Each app runs alone, so the counts are its own.
//
// Knobs: STORM_CONNECTIONS (default 500), STORM_DURATION_S (default 5), STORM_PROFILE=1 (a CPU
// profile of CodeBot; its top self-time functions go into health-storm-profile.json).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { barChart, writeSvg } from './lib/charts.mjs';
import { summarizeProfileDir } from './lib/cpu-profile.mjs';
import { startBenchApp } from './lib/endpoints.mjs';
import { runLoad } from './lib/load-runner.mjs';
import { knob, markdownTable, printGoals, startSession } from './lib/session.mjs';
import { startStack } from './lib/stack.mjs';

/** Each pool's health cache window (ms), as the libraries set it. */
const CACHE_WINDOW_MS = { mongo: 250, redis: 250, github: 1000, telegram: 1000 };
const POOLS = Object.keys(CACHE_WINDOW_MS);
const STACK = 'storm';

/**
 * `{ le: count }` of CodeBot's `http_server_request_duration_seconds` buckets for
 * `GET /health/ready` (all status codes), read from its /metrics.
 */
async function readyBuckets(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('http_server_request_duration_seconds_bucket{')) continue;
    if (!line.includes('http_route="/health/ready"')) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    buckets[le] = (buckets[le] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return buckets;
}

const diff = (a, b) => Object.fromEntries(POOLS.map((p) => [p, b[p] - a[p]]));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default async function run() {
  const profile = process.env.STORM_PROFILE === '1';
  // A profiling run records apart from the run whose tables the docs show.
  const session = startSession(profile ? 'health-storm-profile' : 'health-storm', {
    maxMinutes: 5,
  });
  const connections = knob('STORM_CONNECTIONS', 500);
  const durationS = knob('STORM_DURATION_S', 5);
  const profiles = {};
  try {
    const stack = await startStack([STACK]);
    session.track(() => stack.stop());
    const results = [];
    for (const name of ['nest-pools', 'anchors']) {
      const cpuProfDir =
        profile && name === 'nest-pools' ? mkdtempSync(join(tmpdir(), 'bench-prof-')) : undefined;
      const app = await startBenchApp(stack, name, {}, { proxies: STACK, cpuProfDir });
      let stopped = false;
      session.track(() => (stopped ? undefined : app.stop()));
      // Warm: the connections the storm will use, then a quiet second.
      await runLoad({
        url: app.url,
        connections: 50,
        durationS: 1,
        requests: [{ method: 'GET', path: '/health/ready' }],
        label: `warm-up ${name}`,
      });
      await sleep(1000);
      const idleStart = await stack.pings();
      await sleep(durationS * 1000);
      const idle = diff(idleStart, await stack.pings());
      const stormAt = Date.now();
      const before = await stack.pings();
      const bucketsBefore = name === 'nest-pools' ? await readyBuckets(app.url) : undefined;
      const result = await runLoad({
        url: app.url,
        connections,
        durationS,
        requests: [{ method: 'GET', path: '/health/ready' }],
        label: `storm ${name} @${connections}`,
      });
      const during = diff(before, await stack.pings());
      // In-app time (CodeBot's request histogram, from the request's arrival to the answer): the share
      // of storm requests handled within 5 and 10 ms, queueing before the handler excluded.
      let inApp;
      if (bucketsBefore) {
        const after = await readyBuckets(app.url);
        const count = (le) => (after[le] ?? 0) - (bucketsBefore[le] ?? 0);
        const total = count('+Inf');
        inApp = {
          requests: total,
          within5msPercent: Math.round((count('0.005') / total) * 1000) / 10,
          within10msPercent: Math.round((count('0.01') / total) * 1000) / 10,
        };
      }
      await app.stop();
      stopped = true;
      if (cpuProfDir) {
        // The storm only: the start-up, warm-up and idle window are left out.
        profiles[name] = summarizeProfileDir(cpuProfDir, { skipMs: stormAt - app.spawnedAt });
        rmSync(cpuProfDir, { recursive: true, force: true });
      }
      const perPool = Object.fromEntries(
        POOLS.map((p) => {
          const windows = Math.ceil((result.durationS * 1000) / CACHE_WINDOW_MS[p]);
          const storm = Math.max(0, during[p] - idle[p]);
          return [
            p,
            {
              pings: during[p],
              background: idle[p],
              storm,
              windows,
              perWindow: Math.round((storm / windows) * 100) / 100,
            },
          ];
        }),
      );
      results.push({
        app: name,
        requests: result.requests,
        reqPerSec: result.reqPerSec,
        errors: result.errors,
        latencyMs: result.latencyMs,
        pools: perPool,
        ...(inApp ? { inApp } : {}),
        // With every connection busy, a request waits for the ones ahead of it (Little's law).
        queueingFloorMs: Math.round((connections / Math.max(1, result.reqPerSec)) * 1000 * 10) / 10,
      });
    }

    const ours = results.find((r) => r.app === 'nest-pools');
    const goals = [
      ...POOLS.map((p) => ({
        goal: `≤ 1 ${p} ping per ${CACHE_WINDOW_MS[p]} ms cache window`,
        value: `${ours.pools[p].storm} pings in ${ours.pools[p].windows} windows`,
        met: ours.pools[p].storm <= ours.pools[p].windows,
      })),
      { goal: 'p99 ≤ 10 ms', value: `${ours.latencyMs.p99} ms`, met: ours.latencyMs.p99 <= 10 },
      {
        goal: '99 % handled within 10 ms in the app',
        value: `${ours.inApp.within10msPercent} % (${ours.inApp.within5msPercent} % within 5 ms)`,
        met: ours.inApp.within10msPercent >= 99,
      },
    ];

    console.log(
      `\n### Health storm: ${connections} connections on /health/ready for ${durationS} s\n`,
    );
    console.log(
      markdownTable(
        [
          'app',
          'req/s',
          'p50 / p99 / p99.9 ms',
          'errors',
          'connections ÷ req/s',
          ...POOLS.map((p) => `${p} pings (background)`),
        ],
        results.map((r) => [
          r.app,
          r.reqPerSec,
          `${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.p999}`,
          r.errors,
          `${r.queueingFloorMs} ms`,
          ...POOLS.map((p) => `${r.pools[p].pings} (${r.pools[p].background})`),
        ]),
      ),
    );
    printGoals(goals, 'Goals (nest-pools)');
    const path = session.writeJson({
      settings: { connections, durationS, cacheWindowMs: CACHE_WINDOW_MS },
      results,
      goals,
      ...(profile ? { profiles } : {}),
    });
    const bars = results.flatMap((r) =>
      POOLS.map((p) => ({ group: p, series: r.app, value: r.pools[p].storm })),
    );
    if (!profile) {
      await writeSvg(
        session.file('health-storm.svg'),
        await barChart(bars, {
          title: `Pings the servers answered during ${durationS} s of ${connections} concurrent /health/ready`,
          yTitle: 'pings (background subtracted)',
        }),
      );
    }
    console.log(`\nwrote ${path} (${session.elapsedS()} s)`);
    if (profile) console.log(JSON.stringify(profiles, null, 2));
  } finally {
    await session.close();
  }
}
