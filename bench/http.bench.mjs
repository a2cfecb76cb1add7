// HTTP client throughput: stock @nestjs/axios HttpService vs HttpPoolModule's HttpService vs a
// raw undici Agent, against one local upstream running in a child process (so the server does
// not share the clients' event loop). Each client runs the same closed loop: N requests in
// flight, each GET parsing a small JSON body. One run; ratios are taken within it.
import 'reflect-metadata';

import { Buffer } from 'node:buffer';
import { fork } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const UPSTREAM_FLAG = '--http-bench-upstream';

if (process.argv.includes(UPSTREAM_FLAG)) {
  const body = JSON.stringify({ id: 42, name: 'snippet', tags: ['ts', 'nest'], ok: true });
  const server = http.createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
  process.on('disconnect', () => server.close(() => process.exit(0)));
}

const WARMUP_MS = 1500;
const MEASURE_MS = Number(process.env.HTTP_BENCH_MS ?? 4000);
const IN_FLIGHT = [16, 64];

async function closedLoop(fn, inFlight, ms) {
  let done = 0;
  let failed = 0;
  const end = performance.now() + ms;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        try {
          await fn();
          done++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  // Client-side CPU per request: steadier than req/s when other work shares the machine.
  return { rps: done / seconds, failed, cpuUs: (used.user + used.system) / Math.max(1, done) };
}

export default async function run() {
  const [{ NestFactory }, { Module }, { HttpModule, HttpService }, { HttpPoolModule }, undici, rx] =
    await Promise.all([
      import('@nestjs/core'),
      import('@nestjs/common'),
      import('@nestjs/axios'),
      import('@nest-pools/http'),
      import('undici'),
      import('rxjs'),
    ]);

  const child = fork(fileURLToPath(import.meta.url), [UPSTREAM_FLAG], { stdio: 'inherit' });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}/snippet`;

  class StockModule {}
  Module({ imports: [HttpModule] })(StockModule);
  class PooledModule {}
  Module({
    imports: [
      HttpPoolModule.forRoot({ poolLimit: 64, limitPerHost: 64, retries: 2, dnsCacheTtlMs: 0 }),
    ],
  })(PooledModule);
  const quiet = { logger: false };
  const stockApp = await NestFactory.createApplicationContext(StockModule, quiet);
  const pooledApp = await NestFactory.createApplicationContext(PooledModule, quiet);
  const stock = stockApp.get(HttpService);
  const pooled = pooledApp.get(HttpService);
  const agent = new undici.Agent({ connections: 64 });

  const clients = {
    'stock @nestjs/axios HttpService': () => rx.firstValueFrom(stock.get(url)),
    'HttpPoolModule HttpService': () => rx.firstValueFrom(pooled.get(url)),
    'raw undici Agent': async () => {
      const res = await agent.request({ origin, path: '/snippet', method: 'GET' });
      return res.body.json();
    },
  };

  const only = process.env.HTTP_BENCH_ONLY;
  const results = {};
  for (const inFlight of IN_FLIGHT) {
    for (const [name, fn] of Object.entries(clients)) {
      if (only && !name.includes(only)) continue;
      await closedLoop(fn, inFlight, WARMUP_MS);
      const r = await closedLoop(fn, inFlight, MEASURE_MS);
      results[`${name}@${inFlight}`] = r;
    }
  }

  console.log(`\nGET ${url} (small JSON), ${MEASURE_MS} ms per cell after ${WARMUP_MS} ms warm-up`);
  console.log('| client | in flight | req/s | client CPU µs/req | failed |');
  console.log('|---|---:|---:|---:|---:|');
  for (const inFlight of IN_FLIGHT) {
    for (const name of Object.keys(clients)) {
      const r = results[`${name}@${inFlight}`];
      if (!r) continue;
      console.log(
        `| ${name} | ${inFlight} | ${Math.round(r.rps)} | ${r.cpuUs.toFixed(0)} | ${r.failed} |`,
      );
    }
  }
  console.log('\n| in flight | pooled / stock | pooled / raw undici |');
  console.log('|---:|---:|---:|');
  for (const inFlight of only ? [] : IN_FLIGHT) {
    const s = results[`stock @nestjs/axios HttpService@${inFlight}`].rps;
    const p = results[`HttpPoolModule HttpService@${inFlight}`].rps;
    const u = results[`raw undici Agent@${inFlight}`].rps;
    console.log(`| ${inFlight} | ${(p / s).toFixed(2)}× | ${(p / u).toFixed(2)}× |`);
  }

  await agent.close();
  await pooledApp.close();
  await stockApp.close();
  child.disconnect();
}
