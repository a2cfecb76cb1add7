// Application load test: CodeBot on nest-pools (production defaults) against the same endpoints
// wired the way the anchors' READMEs show (bench/app/anchors-app.mjs) and against CodeBot with
// pooling defeated, all three served from the same MongoDB wire server, redis-server and GitHub
// stand-in. autocannon drives each endpoint at 16, 64 and 256 concurrent connections, with 0, 1
// and 5 ms added per direction by the TCP fault proxies in front of every server (on loopback a
// pool hardly matters). The apps take turns cell by cell, so the ratios come from back-to-back
// runs of one session. The proxies count each app's new connections per cell, server-side.
//
// Knobs: LOAD_DURATION_S (per cell, default 2), LOAD_CONCURRENCY (e.g. "64"), LOAD_LATENCIES
// (e.g. "1"), LOAD_ENDPOINTS (e.g. "cache hit,upstream"), LOAD_PROFILE=1 (CPU profiles of the
// nest-pools and anchors apps over the selected cells, top self-time functions in
// docs/benchmarks/load-profile.json).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { processCpuMs } from './lib/apps.mjs';
import { loadChart, writeSvg } from './lib/charts.mjs';
import { summarizeProfileDir } from './lib/cpu-profile.mjs';
import { APPS, endpoints, seed, stackName, startBenchApp } from './lib/endpoints.mjs';
import { runLoad } from './lib/load-runner.mjs';
import { knob, markdownTable, printGoals, startSession } from './lib/session.mjs';
import { newConnections, startStack } from './lib/stack.mjs';

const list = (name, fallback) =>
  (process.env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const ratio = (a, b) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);

export default async function run() {
  const profile = process.env.LOAD_PROFILE === '1';
  // A profiling run records apart from the load run whose tables the docs show.
  const session = startSession(profile ? 'load-profile' : 'load', { maxMinutes: 10 });
  const durationS = knob('LOAD_DURATION_S', 2);
  const concurrencies = list('LOAD_CONCURRENCY', '16,64,256').map(Number);
  const latencies = list('LOAD_LATENCIES', '0,1,5').map(Number);
  const appNames = Object.keys(APPS);
  const profileDirs = {};
  try {
    const stack = await startStack(appNames.map(stackName));
    session.track(() => stack.stop());
    const apps = {};
    for (const name of appNames) {
      const cpuProfDir =
        profile && name !== 'pooling defeated'
          ? (profileDirs[name] = mkdtempSync(join(tmpdir(), 'bench-prof-')))
          : undefined;
      apps[name] = await startBenchApp(stack, name, {}, { cpuProfDir });
      session.track(() => apps[name].stop());
    }
    const endpointsOf = Object.fromEntries(
      appNames.map((name) => [
        name,
        endpoints({ tag: stackName(name), emptyGistId: stack.emptyGistId }),
      ]),
    );
    const wanted = list('LOAD_ENDPOINTS', Object.keys(endpointsOf[appNames[0]]).join(','));
    for (const name of appNames) await seed(apps[name].url, stackName(name));

    // Warm-up: every app, every endpoint, at the lowest concurrency, without added latency.
    for (const name of appNames) {
      for (const endpoint of wanted) {
        await runLoad({
          url: apps[name].url,
          connections: 16,
          durationS: 1,
          ...endpointsOf[name][endpoint],
          label: `warm-up ${name} ${endpoint}`,
        });
      }
    }

    const loadStartedMs = Date.now();
    const rows = [];
    const cells = latencies.length * wanted.length * concurrencies.length * appNames.length;
    for (const latencyMs of latencies) {
      await stack.latency(latencyMs);
      for (const endpoint of wanted) {
        for (const concurrency of concurrencies) {
          for (const name of appNames) {
            const before = await stack.counts();
            const cpuBefore = processCpuMs(apps[name].pid);
            const result = await runLoad({
              url: apps[name].url,
              connections: concurrency,
              durationS,
              ...endpointsOf[name][endpoint],
              label: `[${rows.length + 1}/${cells}] +${latencyMs} ms ${endpoint} @${concurrency} ${name}`,
            });
            const cpuMs = processCpuMs(apps[name].pid) - cpuBefore;
            const opened = newConnections(before, await stack.counts())[stackName(name)];
            rows.push({
              app: name,
              endpoint,
              latencyMs,
              concurrency,
              reqPerSec: result.reqPerSec,
              p50Ms: result.latencyMs.p50,
              p99Ms: result.latencyMs.p99,
              p999Ms: result.latencyMs.p999,
              errors: result.errors,
              requests: result.requests,
              newConnections: opened,
              // The app's CPU (all its threads) per answer: what caps req/s once a core is full.
              cpuMsPerRequest: Math.round((cpuMs / Math.max(1, result.requests)) * 1000) / 1000,
            });
          }
        }
      }
    }
    await stack.latency(0);

    const find = (app, endpoint, latencyMs, concurrency) =>
      rows.find(
        (r) =>
          r.app === app &&
          r.endpoint === endpoint &&
          r.latencyMs === latencyMs &&
          r.concurrency === concurrency,
      );
    const ratios = [];
    for (const latencyMs of latencies) {
      for (const endpoint of wanted) {
        for (const concurrency of concurrencies) {
          const ours = find('nest-pools', endpoint, latencyMs, concurrency);
          const anchors = find('anchors', endpoint, latencyMs, concurrency);
          const defeated = find('pooling defeated', endpoint, latencyMs, concurrency);
          ratios.push({
            endpoint,
            latencyMs,
            concurrency,
            vsAnchors: ratio(ours.reqPerSec, anchors.reqPerSec),
            vsDefeated: ratio(ours.reqPerSec, defeated.reqPerSec),
            p99Ms: { 'nest-pools': ours.p99Ms, anchors: anchors.p99Ms, defeated: defeated.p99Ms },
            cpuMsPerRequest: {
              'nest-pools': ours.cpuMsPerRequest,
              anchors: anchors.cpuMsPerRequest,
            },
          });
        }
      }
    }
    const goals = evaluateGoals(ratios);

    const profiles = {};
    if (profile) {
      for (const [name, dir] of Object.entries(profileDirs)) {
        await apps[name].stop();
        // The measured cells only: start-up, seeding and warm-up are left out.
        const summary = summarizeProfileDir(dir, { skipMs: loadStartedMs - apps[name].spawnedAt });
        const served = rows.filter((r) => r.app === name).reduce((n, r) => n + r.requests, 0);
        // CPU per answered request: what decides throughput once the app's core is saturated.
        profiles[name] = {
          ...summary,
          requests: served,
          cpuMsPerRequest: Math.round((summary.totalMs / served) * 1000) / 1000,
        };
        rmSync(dir, { recursive: true, force: true });
      }
    }

    printTables(rows, ratios, goals, appNames);
    const path = session.writeJson({
      settings: { durationS, concurrencies, latencies, endpoints: wanted, apps: APPS },
      rows,
      ratios,
      goals,
      ...(profile ? { profiles } : {}),
    });
    if (!profile) {
      await writeSvg(session.file('load-throughput.svg'), await loadChart(rows, { metric: 'rps' }));
      await writeSvg(session.file('load-p99.svg'), await loadChart(rows, { metric: 'p99' }));
    }
    console.log(`\nwrote ${path} (${session.elapsedS()} s)`);
    if (profile) console.log(JSON.stringify(profiles, null, 2));
  } finally {
    await session.close();
  }
}

/** The goals, checked on this run's ratios (only where the run measured the cell). */
function evaluateGoals(ratios) {
  const at = (latencyMs, concurrency) =>
    ratios.filter((r) => r.latencyMs === latencyMs && r.concurrency === concurrency);
  const goals = [];
  for (const r of at(1, 64)) {
    if (r.endpoint === 'cache hit') {
      goals.push({
        goal: 'cache hit ≥ 1.0× anchors (64, +1 ms)',
        value: r.vsAnchors,
        met: r.vsAnchors >= 1,
      });
    }
    if (r.endpoint === 'upstream') {
      goals.push({
        goal: 'upstream ≥ 2× anchors (64, +1 ms)',
        value: r.vsAnchors,
        met: r.vsAnchors >= 2,
      });
    }
    goals.push({
      goal: `${r.endpoint} ≥ 5× pooling defeated (64, +1 ms)`,
      value: r.vsDefeated,
      met: r.vsDefeated >= 5,
    });
  }
  for (const r of ratios.filter((x) => x.concurrency === 256)) {
    goals.push({
      goal: `${r.endpoint} p99 ≤ anchors (256, +${r.latencyMs} ms)`,
      value: `${r.p99Ms['nest-pools']} ms vs ${r.p99Ms.anchors} ms`,
      met: r.p99Ms['nest-pools'] <= r.p99Ms.anchors,
    });
  }
  return goals;
}

function printTables(rows, ratios, goals, appNames) {
  console.log('\n### Requests per second and latency (ms)\n');
  console.log(
    markdownTable(
      [
        'added',
        'endpoint',
        'conc.',
        ...appNames.map((a) => `${a} req/s · p50/p99/p99.9 · errors · new conns (M/R/H)`),
      ],
      groupCells(rows, appNames).map(({ latencyMs, endpoint, concurrency, byApp }) => [
        `+${latencyMs} ms`,
        endpoint,
        concurrency,
        ...appNames.map((a) => {
          const r = byApp[a];
          const c = r.newConnections;
          return `${r.reqPerSec} · ${r.p50Ms}/${r.p99Ms}/${r.p999Ms} · ${r.errors} · ${c.mongo}/${c.redis}/${c.github}`;
        }),
      ]),
    ),
  );
  console.log('\n### Ratios (nest-pools req/s over the other app, same cell)\n');
  console.log(
    markdownTable(
      [
        'added',
        'endpoint',
        'conc.',
        '× anchors',
        '× pooling defeated',
        'p99 nest-pools / anchors (ms)',
        'app CPU ms per request nest-pools / anchors',
      ],
      ratios.map((r) => [
        `+${r.latencyMs} ms`,
        r.endpoint,
        r.concurrency,
        r.vsAnchors,
        r.vsDefeated,
        `${r.p99Ms['nest-pools']} / ${r.p99Ms.anchors}`,
        `${r.cpuMsPerRequest['nest-pools']} / ${r.cpuMsPerRequest.anchors}`,
      ]),
    ),
  );
  printGoals(goals);
}

function groupCells(rows, appNames) {
  const cells = new Map();
  for (const r of rows) {
    const key = `${r.latencyMs}|${r.endpoint}|${r.concurrency}`;
    if (!cells.has(key)) cells.set(key, { ...r, byApp: {} });
    cells.get(key).byApp[r.app] = r;
  }
  return [...cells.values()].filter((c) => appNames.every((a) => c.byApp[a]));
}
