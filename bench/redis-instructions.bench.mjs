// Redis client cost in CPU instructions per GET, counted by valgrind's callgrind: module main
// client vs raw ioredis (defaults, and with command and socket timeouts as the module sets them),
// and the module with REDIS_OPERATION_METRICS on, 16 and 64 in flight.
// Unlike ops/s, instruction counts do not move with the machine's load, so small differences
// show. Counts cover this process' user-space code only (not the kernel, not redis-server).
// Each figure is (count(25,000 GETs) - count(5,000 GETs)) / 20,000, which cancels the fixed cost
// of switching the counting on and off. Takes a few minutes (REDIS_INSTRUCTIONS_VARIANTS picks
// columns, below).
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { startRedis } from '@nest-pools/testing';
import { Redis } from 'ioredis';

const self = fileURLToPath(import.meta.url);
const CHILD_FLAG = '--redis-instructions-child';
// Command and socket timeouts of the module and of "raw ioredis + same timeouts". Their cost per
// command does not depend on their length; under valgrind (~50x slower) the 2 s default would
// fire during start-up.
const TIMEOUT_MS = 60_000;
const SHORT = 5_000;
const LONG = 25_000;
// REDIS_INSTRUCTIONS_VARIANTS=module,module-ops measures only those columns (the others show –).
const ALL_VARIANTS = ['raw', 'raw-timeouts', 'module', 'module-ops'];
const VARIANTS = process.env.REDIS_INSTRUCTIONS_VARIANTS?.split(',') ?? ALL_VARIANTS;

/**
 * The measured process, run under callgrind: `inFlight` callers issue GETs until `count` have
 * completed, after a warm-up of 20,000; only the measured part is counted (callgrind_control
 * switches instrumentation on and off around it).
 */
async function child() {
  const [variant, countArg, inFlightArg] = process.argv.slice(process.argv.indexOf(CHILD_FLAG) + 1);
  const count = Number(countArg);
  const inFlight = Number(inFlightArg);
  const url = process.env.REDIS_URL;
  const KEY = 'bench:instructions';

  let client;
  let app;
  if (variant === 'module' || variant === 'module-ops') {
    const { RedisPoolModule, RedisPoolService } = await import('@nest-pools/redis');
    const { Module } = await import('@nestjs/common');
    const { NestFactory } = await import('@nestjs/core');
    class BenchModule {}
    Module({
      imports: [
        RedisPoolModule.forRoot({
          url,
          maxConnections: 4,
          commandTimeoutMs: TIMEOUT_MS,
          operationMetrics: variant === 'module-ops',
        }),
      ],
    })(BenchModule);
    app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
    client = app.get(RedisPoolService).getClient('default');
  } else if (variant === 'raw') {
    client = new Redis(url);
  } else if (variant === 'raw-timeouts') {
    client = new Redis(url, { commandTimeout: TIMEOUT_MS, socketTimeout: TIMEOUT_MS });
  } else {
    throw new Error(`unknown variant ${variant}: raw | raw-timeouts | module | module-ops`);
  }

  async function gets(n) {
    let left = n;
    const worker = async () => {
      while (left-- > 0) await client.get(KEY);
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  }

  await client.set(KEY, 'x'.repeat(32));
  await gets(20_000);
  execFileSync('callgrind_control', ['--instr=on', String(process.pid)], { stdio: 'ignore' });
  await gets(count);
  execFileSync('callgrind_control', ['--instr=off', String(process.pid)], { stdio: 'ignore' });
  if (app) await app.close();
  else client.disconnect();
}

if (process.argv.includes(CHILD_FLAG)) await child();

function instructions(url, variant, count, inFlight) {
  const run = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      '--smc-check=all-non-file',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      self,
      CHILD_FLAG,
      variant,
      String(count),
      String(inFlight),
    ],
    { env: { ...process.env, REDIS_URL: url }, encoding: 'utf8' },
  );
  const match = /Collected : (\d+)/.exec(run.stderr);
  if (run.status !== 0 || !match) {
    throw new Error(
      `callgrind run of ${variant} failed (${run.status}):\n${run.stderr.slice(-2000)}`,
    );
  }
  return Number(match[1]);
}

export default async function run() {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    console.log('skipped: valgrind is not installed (apt-get install valgrind)');
    return;
  }
  const server = await startRedis();
  try {
    console.log(`redis-server ${server.url}; instructions per GET, this process, user space`);
    console.log(
      '| in flight | raw ioredis (defaults) | raw ioredis + same timeouts | module | raw / module | raw + timeouts / module | module + operation metrics | module / module + operation metrics |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    for (const inFlight of [16, 64]) {
      const per = {};
      for (const variant of VARIANTS) {
        const short = instructions(server.url, variant, SHORT, inFlight);
        const long = instructions(server.url, variant, LONG, inFlight);
        per[variant] = (long - short) / (LONG - SHORT);
      }
      const k = (n) => (n === undefined ? '–' : `${(n / 1000).toFixed(1)}k`);
      const ratio = (a, b) => (a === undefined || b === undefined ? '–' : (a / b).toFixed(3));
      console.log(
        `| ${inFlight} | ${k(per.raw)} | ${k(per['raw-timeouts'])} | ${k(per.module)} | ${ratio(per.raw, per.module)} | ${ratio(per['raw-timeouts'], per.module)} | ${k(per['module-ops'])} | ${ratio(per.module, per['module-ops'])} |`,
      );
    }
  } finally {
    await server.stop();
  }
}
