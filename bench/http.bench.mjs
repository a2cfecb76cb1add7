// HTTP client throughput: stock @nestjs/axios HttpService vs HttpPoolModule's HttpService and its
// native requester vs a raw undici Agent, against a local upstream running in a child process (so
// the server does not share the clients' event loop): a 71-byte JSON body at once, then a 2 KB
// JSON body after 1 ms of latency; then the native requester through a forward proxy. Each client
// runs the same closed loop: N requests in flight, each GET parsing the JSON body. One run; ratios
// are taken within it. The clients take turns in interleaved rounds, so a change in machine load
// mid-run hits all of them alike; each cell reports the median over the rounds. Each client runs in
// a process of its own, as it would in an application (HTTP_BENCH_ONE_PROCESS=1: all in this one,
// where stock axios and the pooled adapter share axios's compiled code and heap).
import 'reflect-metadata';

import { Buffer } from 'node:buffer';
import { fork } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

import { forkWithIpc, serveIpc } from './lib/ipc.mjs';

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
  // The delay each answer actually got (a ring of the latest), reported on request: with a
  // latency, it is what caps the throughput of any client at a given number in flight.
  const delays = new Float64Array(1 << 18);
  let answered = 0;
  const answer = (res, since) => {
    delays[answered++ & (delays.length - 1)] = performance.now() - since;
    res.writeHead(200, headers);
    res.end(body);
  };
  // Node's timers count whole milliseconds from the loop's clock: a 1 ms timer fires a fraction
  // of a millisecond to about two milliseconds after it was set.
  const server = http.createServer((_req, res) =>
    latency ? setTimeout(answer, latency, res, performance.now()) : answer(res, performance.now()),
  );
  process.on('message', (message) => {
    if (message !== 'delays') return;
    const sorted = delays.slice(0, Math.min(answered, delays.length)).sort();
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const mean = sorted.reduce((sum, d) => sum + d, 0) / Math.max(1, sorted.length);
    process.send?.({ delays: { p10: at(0.1), p50: at(0.5), p90: at(0.9), mean } });
  });
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
  return {
    origin: `http://127.0.0.1:${port}`,
    /** Percentiles (ms) of the delay the upstream gave its latest answers. */
    delays: async () => {
      child.send('delays');
      const message = await new Promise((resolve) => child.once('message', resolve));
      return message.delays;
    },
    stop: () => child.disconnect(),
  };
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
 * `clients[name](inFlight, ms)` runs one closed loop of that client (see {@link startClients}).
 */
async function interleavedRounds(clients, names = Object.keys(clients)) {
  const rounds = {};
  for (const inFlight of IN_FLIGHT) {
    for (const name of names) await clients[name](inFlight, WARMUP_MS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of names) {
        const r = await clients[name](inFlight, MEASURE_MS / ROUNDS);
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

/** The clients of the comparison, by name: each is built by {@link makeClient}. */
const CLIENTS = {
  stock: 'stock @nestjs/axios HttpService',
  pooled: 'HttpPoolModule HttpService',
  native: 'HttpPoolRequester (native)',
  undici: 'raw undici Agent',
  nativeProxy: 'HttpPoolRequester via proxy',
  undiciProxy: 'raw undici ProxyAgent',
};

/**
 * Builds client `kind` (a key of {@link CLIENTS}) for `origin`, through `proxyUrl` for the proxy
 * kinds: `{ request, close }`, `request()` being one GET of `/snippet` with its JSON body parsed.
 */
async function makeClient(kind, origin, proxyUrl) {
  const url = `${origin}/snippet`;
  const quiet = { logger: false };
  if (kind === 'undici' || kind === 'undiciProxy') {
    const undici = await import('undici');
    // Through the proxy, the client's mode for http:// targets: forwarded in absolute-URI form, no
    // CONNECT tunnel (undici's default tunnels them, which leaves the proxy only bytes to copy).
    const agent =
      kind === 'undici'
        ? new undici.Agent({ connections: 64 })
        : new undici.ProxyAgent({ uri: proxyUrl, connections: 64, proxyTunnel: false });
    return {
      request: async () => {
        const res = await agent.request({ origin, path: '/snippet', method: 'GET' });
        return res.body.json();
      },
      close: () => agent.close(),
    };
  }
  const [{ NestFactory }, { Module }, rx] = await Promise.all([
    import('@nestjs/core'),
    import('@nestjs/common'),
    import('rxjs'),
  ]);
  class ClientModule {}
  if (kind === 'stock') {
    const { HttpModule, HttpService } = await import('@nestjs/axios');
    Module({ imports: [HttpModule] })(ClientModule);
    const app = await NestFactory.createApplicationContext(ClientModule, quiet);
    const http = app.get(HttpService);
    return { request: () => rx.firstValueFrom(http.get(url)), close: () => app.close() };
  }
  const { HttpPoolModule, getHttpPoolRequesterToken } = await import('@nest-pools/http');
  const { HttpService } = await import('@nestjs/axios');
  Module({
    imports: [
      HttpPoolModule.forRoot({
        poolLimit: 64,
        limitPerHost: 64,
        retries: 2,
        dnsCacheTtlMs: 0,
        ...(kind === 'nativeProxy' ? { proxy: proxyUrl } : {}),
      }),
    ],
  })(ClientModule);
  const app = await NestFactory.createApplicationContext(ClientModule, quiet);
  if (kind === 'pooled') {
    const http = app.get(HttpService);
    return { request: () => rx.firstValueFrom(http.get(url)), close: () => app.close() };
  }
  const requester = app.get(getHttpPoolRequesterToken());
  return { request: async () => (await requester.get(url)).json(), close: () => app.close() };
}

const CLIENT_ENV = 'HTTP_BENCH_CLIENT';
if (process.env[CLIENT_ENV]) {
  // One client in a process of its own, driven over IPC: each `loop` runs one closed loop here.
  const client = await makeClient(
    process.env[CLIENT_ENV],
    process.env.HTTP_BENCH_ORIGIN,
    process.env.HTTP_BENCH_PROXY_URL,
  );
  serveIpc({
    loop: ({ inFlight, ms }) => closedLoop(client.request, inFlight, ms),
    stop: async () => {
      await client.close();
      setImmediate(() => process.exit(0));
    },
  });
  process.send?.({ ready: true });
}

/**
 * Starts the clients `kinds` for `origin`: each a `(inFlight, ms) => closed-loop result`, in a
 * process of its own (or in this one with HTTP_BENCH_ONE_PROCESS=1). `close()` stops them all.
 */
async function startClients(kinds, origin, proxyUrl) {
  const clients = {};
  const closers = [];
  for (const kind of kinds) {
    if (process.env.HTTP_BENCH_ONE_PROCESS === '1') {
      const client = await makeClient(kind, origin, proxyUrl);
      clients[CLIENTS[kind]] = (inFlight, ms) => closedLoop(client.request, inFlight, ms);
      closers.push(() => client.close());
      continue;
    }
    const worker = await forkWithIpc(fileURLToPath(import.meta.url), {
      env: {
        [CLIENT_ENV]: kind,
        HTTP_BENCH_ORIGIN: origin,
        ...(proxyUrl ? { HTTP_BENCH_PROXY_URL: proxyUrl } : {}),
      },
    });
    clients[CLIENTS[kind]] = (inFlight, ms) => worker.call('loop', { inFlight, ms }, ms + 60_000);
    closers.push(() => worker.stop());
  }
  return { clients, close: () => Promise.all(closers.map((close) => close())) };
}

export default async function run() {
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
    const kinds = ['stock', 'pooled', 'native', 'undici'].filter(
      (kind) => !only || CLIENTS[kind].includes(only),
    );
    const { clients, close } = await startClients(kinds, upstream.origin);
    const names = Object.keys(clients);
    const rounds = await interleavedRounds(clients, names);
    await close();
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
    if (args.length > 0) {
      const d = await upstream.delays();
      const ms = (value) => value.toFixed(2);
      console.log(
        `\nUpstream delay before each answer (its own clock, latest answers): p10 ${ms(d.p10)} ms, ` +
          `p50 ${ms(d.p50)} ms, p90 ${ms(d.p90)} ms, mean ${ms(d.mean)} ms. With N in flight no ` +
          `client exceeds N / (mean delay + its round trip) req/s: ` +
          IN_FLIGHT.map((n) => `${n} in flight < ${Math.round((n * 1000) / d.mean)}`).join(', ') +
          ' req/s.',
      );
    }
    if (first) upstream.stop();
    else first = upstream;
  }
  if (!only) await throughProxy(first.origin);
  first.stop();
}

/**
 * The native client and a raw undici `ProxyAgent` through the same forward proxy (the test kit's,
 * in a child process): plain http:// requests forwarded by the proxy, one run, ratios per round.
 */
async function throughProxy(origin) {
  const child = fork(fileURLToPath(import.meta.url), [PROXY_FLAG], { stdio: 'inherit' });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  const proxyUrl = `http://127.0.0.1:${port}`;
  const { clients, close } = await startClients(['nativeProxy', 'undiciProxy'], origin, proxyUrl);
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
  await close();
  child.disconnect();
}
