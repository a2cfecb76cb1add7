// What the pool metrics cost an application: CodeBot with its pool metrics on (the default)
// against CodeBot with MONGODB_POOL_METRICS, REDIS_POOL_METRICS and HTTP_POOL_METRICS set to
// false, and against a second, identical metrics-on instance (the control: how far two equal
// apps differ in this session). The apps take turns in interleaved rounds per endpoint at 64
// connections, on loopback (where per-request CPU weighs most); each round's ratio is taken from
// back-to-back runs and the table shows the median over the rounds, of req/s and of the app
// process' CPU per request (all threads, from /proc), which moves less when the machine is shared.
//
// Knobs: METRICS_ROUNDS (default 5), METRICS_ROUND_S (default 2), METRICS_CONNECTIONS (64).
import { processCpuMs } from './lib/apps.mjs';
import { barChart, writeSvg } from './lib/charts.mjs';
import { endpoints, seed, startBenchApp } from './lib/endpoints.mjs';
import { runLoad } from './lib/load-runner.mjs';
import { knob, markdownTable, median, printGoals, startSession } from './lib/session.mjs';
import { startStack } from './lib/stack.mjs';

const OFF = {
  MONGODB_POOL_METRICS: 'false',
  REDIS_POOL_METRICS: 'false',
  HTTP_POOL_METRICS: 'false',
};
const VARIANTS = {
  'metrics on': { proxies: 'on', env: {} },
  'metrics off': { proxies: 'off', env: OFF },
  'metrics on (control)': { proxies: 'control', env: {} },
};
const ENDPOINTS = ['cache hit', 'cache miss', 'write', 'upstream'];

export default async function run() {
  const session = startSession('metrics-cost', { maxMinutes: 10 });
  const rounds = knob('METRICS_ROUNDS', 5);
  const roundS = knob('METRICS_ROUND_S', 2);
  const connections = knob('METRICS_CONNECTIONS', 64);
  const names = Object.keys(VARIANTS);
  try {
    const stack = await startStack(names.map((n) => VARIANTS[n].proxies));
    session.track(() => stack.stop());
    const apps = {};
    const calls = {};
    for (const name of names) {
      const { proxies, env } = VARIANTS[name];
      apps[name] = await startBenchApp(stack, 'nest-pools', env, { proxies, label: name });
      session.track(() => apps[name].stop());
      await seed(apps[name].url, proxies);
      calls[name] = endpoints({ tag: proxies, emptyGistId: stack.emptyGistId });
    }
    // The off app really exports no pool metrics, and the on app does.
    const exported = async (name) =>
      (await (await fetch(`${apps[name].url}/metrics`)).text()).includes(
        'db_client_connection_count{',
      );
    const check = { on: await exported('metrics on'), off: await exported('metrics off') };
    if (!check.on || check.off)
      throw new Error(`pool metrics on/off not as set: ${JSON.stringify(check)}`);

    const measured = [];
    for (const endpoint of ENDPOINTS) {
      for (const name of names) {
        await runLoad({
          url: apps[name].url,
          connections,
          durationS: 1,
          ...calls[name][endpoint],
          label: `warm-up ${name} ${endpoint}`,
        });
      }
      for (let round = 0; round < rounds; round++) {
        // The order turns every round, so no variant always runs first.
        const order = names.map((_, i) => names[(i + round) % names.length]);
        const reqPerSec = {};
        const cpuMsPerRequest = {};
        for (const name of order) {
          const cpuBefore = processCpuMs(apps[name].pid);
          const r = await runLoad({
            url: apps[name].url,
            connections,
            durationS: roundS,
            ...calls[name][endpoint],
            label: `${endpoint} round ${round + 1}/${rounds} ${name}`,
          });
          reqPerSec[name] = r.reqPerSec;
          cpuMsPerRequest[name] =
            (processCpuMs(apps[name].pid) - cpuBefore) / Math.max(1, r.requests);
        }
        measured.push({ endpoint, round, reqPerSec, cpuMsPerRequest });
      }
    }

    const rows = ENDPOINTS.map((endpoint) => {
      const mine = measured.filter((m) => m.endpoint === endpoint);
      const ratio = (name, key = 'reqPerSec') =>
        Math.round(median(mine.map((m) => m[key][name] / m[key]['metrics on'])) * 1000) / 1000;
      return {
        endpoint,
        medianReqPerSec: Object.fromEntries(
          names.map((n) => [n, Math.round(median(mine.map((m) => m.reqPerSec[n])))]),
        ),
        offOverOn: ratio('metrics off'),
        controlOverOn: ratio('metrics on (control)'),
        // CPU per request moves far less than req/s when other work shares the machine.
        cpuOffOverOn: ratio('metrics off', 'cpuMsPerRequest'),
        cpuControlOverOn: ratio('metrics on (control)', 'cpuMsPerRequest'),
        // What metrics cost: how much faster the app is without them, in percent of with them.
        costPercent: Math.round((ratio('metrics off') - 1) * 1000) / 10,
      };
    });
    const pct = (ratio) => Math.round((ratio - 1) * 1000) / 10;
    const goals = rows.flatMap((r) => [
      {
        goal: `${r.endpoint}: req/s with metrics off vs on within 3 %`,
        value: `${r.costPercent} % (control ${pct(r.controlOverOn)} %)`,
        met: Math.abs(r.costPercent) <= 3,
      },
      {
        goal: `${r.endpoint}: CPU per request with metrics on vs off within 3 %`,
        value: `${pct(1 / r.cpuOffOverOn)} % (control ${pct(r.cpuControlOverOn)} %)`,
        met: Math.abs(pct(1 / r.cpuOffOverOn)) <= 3,
      },
    ]);

    console.log(
      `\n### Pool metrics on vs off, ${connections} connections, median of ${rounds} rounds\n`,
    );
    console.log(
      markdownTable(
        [
          'endpoint',
          ...names.map((n) => `${n} req/s`),
          'req/s off ÷ on',
          'req/s control ÷ on',
          'CPU/request off ÷ on',
          'CPU/request control ÷ on',
        ],
        rows.map((r) => [
          r.endpoint,
          ...names.map((n) => r.medianReqPerSec[n]),
          r.offOverOn,
          r.controlOverOn,
          r.cpuOffOverOn,
          r.cpuControlOverOn,
        ]),
      ),
    );
    printGoals(goals);
    const path = session.writeJson({
      settings: { rounds, roundS, connections, off: OFF },
      rows,
      measured,
      goals,
    });
    await writeSvg(
      session.file('metrics-cost.svg'),
      await barChart(
        rows.flatMap((r) =>
          names.map((n) => ({ group: r.endpoint, series: n, value: r.medianReqPerSec[n] })),
        ),
        {
          title: 'CodeBot req/s with pool metrics on, off, and on again (control)',
          yTitle: 'req/s (median of rounds)',
        },
      ),
    );
    console.log(`\nwrote ${path} (${session.elapsedS()} s)`);
  } finally {
    await session.close();
  }
}
