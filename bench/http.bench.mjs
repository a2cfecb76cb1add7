// HTTP client throughput: stock @nestjs/axios HttpService vs HttpPoolModule's HttpService and its
// native requester vs a raw undici Agent, against a local upstream running in a child process (so
// the server does not share the clients' event loop): a 71-byte JSON body at once, then a 2 KB
// JSON body after 1 ms of latency; then the native requester through a forward proxy. Each client
// runs the same closed loop: N requests in flight, each GET parsing the JSON body. One run; ratios
// are taken within it. The clients take turns in interleaved rounds, so a change in machine load
// mid-run hits all of them alike; each cell reports the median over the rounds.
import 'reflect-metadata';

import { Buffer } from 'node:buffer';
import { fork } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
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

/** The second configuration: a 2 KB JSON body after 1 ms, closer to a real API than 71 bytes at once. */
const SECOND = { bodyBytes: 2048, latencyMs: 1 };

/** A JSON array of snippet records `bytes` long once serialised. */
function jsonBody(bytes) {
  const records = [];
  for (let id = 1; JSON.stringify(records).length < bytes - 200; id++) {
    records.push({ id, name: `snippet-${id}`, lang: 'ts', tags: ['nest', 'pool'], stars: id * 7 });
  }
  const filler = { id: 0, note: '' };
  records.push(filler);
  filler.note = 'x'.repeat(bytes - JSON.stringify(records).length);
  return JSON.stringify(records);
}

if (process.argv.includes(UPSTREAM_FLAG)) {
  // `--http-bench-upstream [bodyBytes latencyMs]`: without them, a 71-byte JSON body at once.
  const [bytes, latency] = process.argv.slice(process.argv.indexOf(UPSTREAM_FLAG) + 1).map(Number);
  const body = bytes
    ? jsonBody(bytes)
    : JSON.stringify({ id: 42, name: 'snippet', tags: ['ts', 'nest'], ok: true });
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  const answer = (res) => {
    res.writeHead(200, headers);
    res.end(body);
  };
  // Node's timers fire no earlier than asked, often up to a millisecond later.
  const server = http.createServer((_req, res) =>
    latency ? setTimeout(answer, latency, res) : answer(res),
  );
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
  process.on('disconnect', () => server.close(() => process.exit(0)));
}

/** Starts an upstream child process; resolves with its origin and a stop function. */
async function startUpstream(args = []) {
  const child = fork(fileURLToPath(import.meta.url), [UPSTREAM_FLAG, ...args.map(String)], {
    stdio: 'inherit',
  });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  return { origin: `http://127.0.0.1:${port}`, stop: () => child.disconnect() };
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

/** Median req/s and client CPU per request of each client and in-flight level. */
function printRounds(rounds, names) {
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

  // The same four clients against each upstream; every client parses the JSON body.
  const clientsFor = (origin) => {
    const url = `${origin}/snippet`;
    return {
      'stock @nestjs/axios HttpService': () => rx.firstValueFrom(stock.get(url)),
      'HttpPoolModule HttpService': () => rx.firstValueFrom(pooled.get(url)),
      'HttpPoolRequester (native)': async () => (await requester.get(url)).json(),
      'raw undici Agent': async () => {
        const res = await agent.request({ origin, path: '/snippet', method: 'GET' });
        return res.body.json();
      },
    };
  };
  const only = process.env.HTTP_BENCH_ONLY;
  const configurations = [
    { args: [], label: 'small JSON (71 bytes) at once' },
    {
      args: [SECOND.bodyBytes, SECOND.latencyMs],
      label: `${SECOND.bodyBytes}-byte JSON after ${SECOND.latencyMs} ms of upstream latency`,
    },
  ];
  let first;
  for (const { args, label } of configurations) {
    const upstream = await startUpstream(args);
    const clients = clientsFor(upstream.origin);
    const names = Object.keys(clients).filter((name) => !only || name.includes(only));
    const rounds = await interleavedRounds(clients, names);
    console.log(
      `\nGET ${upstream.origin}/snippet, ${label}: ${MEASURE_MS} ms per cell in ${ROUNDS} ` +
        `interleaved rounds after ${WARMUP_MS} ms warm-up; medians over the rounds`,
    );
    printRounds(rounds, names);
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
    if (first) upstream.stop();
    else first = upstream;
  }
  if (!only)
    await throughProxy({
      NestFactory,
      Module,
      HttpPoolModule,
      getHttpPoolRequesterToken,
      undici,
      origin: first.origin,
    });

  await agent.close();
  await pooledApp.close();
  await stockApp.close();
  first.stop();
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
  // The client's mode for http:// targets: forwarded in absolute-URI form, no CONNECT tunnel
  // (undici's default tunnels them, which leaves the proxy only bytes to copy).
  const agent = new undici.ProxyAgent({ uri: proxyUrl, connections: 64, proxyTunnel: false });
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
  printRounds(rounds, Object.keys(clients));
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
