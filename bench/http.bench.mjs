// HTTP client throughput: stock @nestjs/axios HttpService vs HttpPoolModule's HttpService vs a
// raw undici Agent, against one local upstream running in a child process (so the server does
// not share the clients' event loop). Each client runs the same closed loop: N requests in
// flight, each GET parsing a small JSON body. One run; ratios are taken within it. The clients
// take turns in interleaved rounds, so a change in machine load mid-run hits all of them alike;
// each cell reports the median over the rounds.
import 'reflect-metadata';

import { Buffer } from 'node:buffer';
import { fork } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const UPSTREAM_FLAG = '--http-bench-upstream';
const PROXY_FLAG = '--http-bench-proxy';

if (process.argv.includes(PROXY_FLAG)) {
  // The test kit's forward proxy in its own process, like the upstream.
  const { startForwardProxy } = await import('@nest-pools/testing');
  const proxy = await startForwardProxy();
  process.send?.({ port: proxy.port });
  process.on('disconnect', () => void proxy.close().then(() => process.exit(0)));
}

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
const ROUNDS = Math.max(1, Number(process.env.HTTP_BENCH_ROUNDS ?? 4));
const IN_FLIGHT = [16, 64];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

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

/**
 * Each client's warm-up, then ROUNDS interleaved rounds per in-flight level, the clients taking
 * turns so a change in machine load hits them alike: `rounds['name@inFlight']` lists the rounds.
 */
async function interleavedRounds(clients, names = Object.keys(clients)) {
  const rounds = {};
  for (const inFlight of IN_FLIGHT) {
    for (const name of names) await closedLoop(clients[name], inFlight, WARMUP_MS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of names) {
        const r = await closedLoop(clients[name], inFlight, MEASURE_MS / ROUNDS);
        (rounds[`${name}@${inFlight}`] ??= []).push(r);
      }
    }
  }
  return rounds;
}

/** a's req/s over b's per round (measured back to back), then the median, as `0.00`. */
const roundRatio = (rounds, a, b, inFlight) =>
  median(
    rounds[`${a}@${inFlight}`].map((r, i) => r.rps / rounds[`${b}@${inFlight}`][i].rps),
  ).toFixed(2);

export default async function run() {
  const [
    { NestFactory },
    { Module },
    { HttpModule, HttpService },
    { HttpPoolModule, getHttpPoolRequesterToken },
    undici,
    rx,
  ] = await Promise.all([
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
  const requester = pooledApp.get(getHttpPoolRequesterToken());
  const agent = new undici.Agent({ connections: 64 });

  const clients = {
    'stock @nestjs/axios HttpService': () => rx.firstValueFrom(stock.get(url)),
    'HttpPoolModule HttpService': () => rx.firstValueFrom(pooled.get(url)),
    'HttpPoolRequester (native)': async () => (await requester.get(url)).json(),
    'raw undici Agent': async () => {
      const res = await agent.request({ origin, path: '/snippet', method: 'GET' });
      return res.body.json();
    },
  };

  const only = process.env.HTTP_BENCH_ONLY;
  const names = Object.keys(clients).filter((name) => !only || name.includes(only));
  const rounds = await interleavedRounds(clients, names);

  console.log(
    `\nGET ${url} (small JSON), ${MEASURE_MS} ms per cell in ${ROUNDS} interleaved rounds ` +
      `after ${WARMUP_MS} ms warm-up; medians over the rounds`,
  );
  console.log('| client | in flight | req/s | client CPU µs/req | failed |');
  console.log('|---|---:|---:|---:|---:|');
  for (const inFlight of IN_FLIGHT) {
    for (const name of names) {
      const rs = rounds[`${name}@${inFlight}`];
      const rps = median(rs.map((r) => r.rps));
      const cpu = median(rs.map((r) => r.cpuUs));
      const failed = rs.reduce((sum, r) => sum + r.failed, 0);
      console.log(`| ${name} | ${inFlight} | ${Math.round(rps)} | ${cpu.toFixed(0)} | ${failed} |`);
    }
  }
  const ratio = (a, b, inFlight) => roundRatio(rounds, a, b, inFlight);
  console.log('\n| in flight | pooled / stock | pooled / raw undici | native / raw undici |');
  console.log('|---:|---:|---:|---:|');
  for (const inFlight of only ? [] : IN_FLIGHT) {
    const pooled = 'HttpPoolModule HttpService';
    console.log(
      `| ${inFlight} | ${ratio(pooled, 'stock @nestjs/axios HttpService', inFlight)}× | ` +
        `${ratio(pooled, 'raw undici Agent', inFlight)}× | ` +
        `${ratio('HttpPoolRequester (native)', 'raw undici Agent', inFlight)}× |`,
    );
  }
  if (!only)
    await throughProxy({
      NestFactory,
      Module,
      HttpPoolModule,
      getHttpPoolRequesterToken,
      undici,
      origin,
    });

  await agent.close();
  await pooledApp.close();
  await stockApp.close();
  child.disconnect();
}

/**
 * The native client and a raw undici `ProxyAgent` through the same forward proxy (the test kit's,
 * in a child process): plain http:// requests forwarded by the proxy, one run, ratios per round.
 */
async function throughProxy({
  NestFactory,
  Module,
  HttpPoolModule,
  getHttpPoolRequesterToken,
  undici,
  origin,
}) {
  const child = fork(fileURLToPath(import.meta.url), [PROXY_FLAG], { stdio: 'inherit' });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  const proxyUrl = `http://127.0.0.1:${port}`;
  class ProxiedModule {}
  Module({
    imports: [
      HttpPoolModule.forRoot({
        poolLimit: 64,
        limitPerHost: 64,
        retries: 2,
        dnsCacheTtlMs: 0,
        proxy: proxyUrl,
      }),
    ],
  })(ProxiedModule);
  const app = await NestFactory.createApplicationContext(ProxiedModule, { logger: false });
  const requester = app.get(getHttpPoolRequesterToken());
  const agent = new undici.ProxyAgent({ uri: proxyUrl, connections: 64 });
  const url = `${origin}/snippet`;
  const clients = {
    'HttpPoolRequester via proxy': async () => (await requester.get(url)).json(),
    'raw undici ProxyAgent': async () => {
      const res = await agent.request({ origin, path: '/snippet', method: 'GET' });
      return res.body.json();
    },
  };
  const rounds = await interleavedRounds(clients);
  console.log(`\nThrough a forward proxy (${proxyUrl}), same upstream and loop`);
  console.log('| client | in flight | req/s | failed |');
  console.log('|---|---:|---:|---:|');
  for (const inFlight of IN_FLIGHT) {
    for (const name of Object.keys(clients)) {
      const rs = rounds[`${name}@${inFlight}`];
      const failed = rs.reduce((sum, r) => sum + r.failed, 0);
      console.log(
        `| ${name} | ${inFlight} | ${Math.round(median(rs.map((r) => r.rps)))} | ${failed} |`,
      );
    }
  }
  console.log('\n| in flight | native via proxy / raw undici via proxy |');
  console.log('|---:|---:|');
  for (const inFlight of IN_FLIGHT) {
    const ratio = roundRatio(
      rounds,
      'HttpPoolRequester via proxy',
      'raw undici ProxyAgent',
      inFlight,
    );
    console.log(`| ${inFlight} | ${ratio}× |`);
  }
  await agent.close();
  await app.close();
  child.disconnect();
}
