import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { startMongo, startRedis } from '@nest-pools/testing';

import { GitHubStandIn } from '../../apps/codebot/src/dev/github-stand-in.js';
import { TelegramStandIn } from '../../apps/codebot/src/dev/telegram-stand-in.js';
import {
  baseEnv,
  buildCodebot,
  type CodebotProcess,
  http,
  stackEnv,
  startCodebot,
  waitUntil,
} from './codebot-harness.js';

const TOKEN = '777003:shutdown-test-token';
const DRAIN_MS = 2000;
const SLOW_MS = 700;
const TARGET_RPS = 260;
const WORKERS = 24;
/** Requests completed under load before SIGTERM (about 1.5 s at TARGET_RPS on a quiet machine). */
const LOAD_REQUESTS = 390;

describe('CodeBot graceful shutdown under load (built app as a child process)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let mongo: Awaited<ReturnType<typeof startMongo>>;
  const telegram = new TelegramStandIn(TOKEN);
  const github = new GitHubStandIn();
  let app: CodebotProcess | undefined;

  beforeAll(async () => {
    await buildCodebot();
    [redis, mongo] = await Promise.all([
      startRedis(),
      startMongo({ dbPrefix: 'codebot' }),
      telegram.start(),
      github.start(),
    ]).then(([r, m]) => [r, m] as const);
  }, 240_000);

  afterAll(async () => {
    if (app && app.child.exitCode === null) await app.stop('SIGKILL');
    await Promise.all([redis?.stop(), mongo?.stop(), telegram.close(), github.close()]);
  });

  it('SIGTERM under keep-alive load: no failed request, in-flight ones finish, exit 0 within drain + 2 s', async () => {
    app = await startCodebot(
      baseEnv({
        ...stackEnv({ redis, mongo, telegram, github, telegramToken: TOKEN }),
        SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_MS),
        SHUTDOWN_TIMEOUT_MS: '10000',
        RATE_LIMIT_MAX: '1000000',
      }),
    );
    const base = app.baseUrl;
    await waitUntil(
      async () => (await http(base, 'GET', '/health/startup')).status === 200,
      15_000,
    );
    const seed = { owner: 'load', name: 'hot.js', language: 'javascript', code: 'hot();' };
    expect((await http(base, 'POST', '/api/snippets', seed)).status).toBe(201);
    const gistId = github.addGist({ 'slow.py': 'print("slow")' });

    const agent = new Agent({ keepAlive: true, maxSockets: WORKERS });
    const failures: string[] = [];
    let sent = 0;
    let completed = 0;
    let stopSending = false;
    let sigtermAt = Number.POSITIVE_INFINITY;
    const request = async (method: string, path: string, body?: unknown, expected = [200]) => {
      sent++;
      const startedAt = Date.now();
      const when = () =>
        `started ${startedAt - sigtermAt} ms, failed ${Date.now() - sigtermAt} ms after SIGTERM`;
      try {
        const res = await http(base, method, path, body, {}, agent);
        if (!expected.includes(res.status))
          failures.push(`${method} ${path} → ${res.status} (${when()})`);
      } catch (error) {
        failures.push(`${method} ${path} → ${(error as Error).message} (${when()})`);
      } finally {
        completed++;
      }
    };

    // Warm-up (JIT, sockets, pools), not measured.
    const warmUntil = Date.now() + 1000;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (Date.now() < warmUntil) await request('GET', '/api/snippets/load/hot.js');
      }),
    );

    // Closed loop: WORKERS keep-alive connections, each paced to TARGET_RPS / WORKERS, so the
    // client never queues more than WORKERS requests (what it sends is what is in flight).
    const completedBefore = completed;
    const loadStart = Date.now();
    const interval = (1000 * WORKERS) / TARGET_RPS;
    const workers = Array.from({ length: WORKERS }, async (_, w) => {
      let next = loadStart + (w * interval) / WORKERS;
      while (!stopSending) {
        await request('GET', '/api/snippets/load/hot.js');
        next += interval;
        const wait = next - Date.now();
        if (wait > 0) await sleep(wait);
      }
    });

    // The load is a count, not a time window: on a starved machine it takes longer, never less.
    await waitUntil(
      () => Promise.resolve(completed - completedBefore >= LOAD_REQUESTS),
      30_000,
      10,
      'load',
    );
    const rate = (completed - completedBefore) / ((Date.now() - loadStart) / 1000);
    const inFlightAtSigterm = () => sent - completed;
    // Slow requests in flight when SIGTERM arrives.
    github.latencyMs = SLOW_MS;
    const slow = [
      request('POST', '/api/snippets/import', { owner: 'load-a', gistId }, [201]),
      request('POST', '/api/snippets/import', { owner: 'load-b', gistId }, [201]),
    ];
    await sleep(50);

    sigtermAt = Date.now();
    const inFlight = inFlightAtSigterm();
    app.child.kill('SIGTERM');

    // The balancer notices readiness 503 and stops routing new requests to this pod.
    await waitUntil(
      async () => (await http(base, 'GET', '/health/ready')).status === 503,
      1000,
      20,
      'readiness 503',
    );
    // The balancer takes a moment to propagate; requests keep coming and are answered, each on a
    // connection the server closes after the response.
    const duringDrain = await http(base, 'GET', '/api/snippets/load/hot.js', undefined, {}, agent);
    expect([duringDrain.status, duringDrain.headers.connection]).toEqual([200, 'close']);
    await sleep(200);
    stopSending = true;
    // One more request that arrived just before, slow enough to be in flight when the server
    // closes at the end of the drain: it must complete, and only then may the pools close.
    github.latencyMs = DRAIN_MS;
    slow.push(request('POST', '/api/snippets/import', { owner: 'load-c', gistId }, [201]));
    await Promise.all([...workers, ...slow]);
    const exit = await app.exited;
    agent.destroy();

    expect(failures).toEqual([]);
    expect(completed).toBe(sent);
    expect(exit.code).toBe(0);
    expect(exit.atMs - sigtermAt).toBeLessThanOrEqual(DRAIN_MS + 2000);
    expect(app.output()).not.toContain('Exiting with code 1');
    // Shut down under load: requests were in flight at SIGTERM (the two slow imports at least).
    expect(inFlight).toBeGreaterThanOrEqual(2);
    console.info(
      `shutdown under load: ${LOAD_REQUESTS} requests at ${rate.toFixed(0)} req/s before SIGTERM, ${inFlight} in flight at SIGTERM`,
    );
  }, 60_000);

  it('past SHUTDOWN_TIMEOUT_MS it exits 1 and names what was still open', async () => {
    github.latencyMs = 0;
    const deadlineApp = await startCodebot(
      baseEnv({
        ...stackEnv({ redis, mongo, telegram, github, telegramToken: TOKEN }),
        SHUTDOWN_DRAIN_DELAY_MS: '0',
        SHUTDOWN_TIMEOUT_MS: '1500',
      }),
    );
    app = deadlineApp;
    const base = deadlineApp.baseUrl;
    await waitUntil(
      async () => (await http(base, 'GET', '/health/startup')).status === 200,
      15_000,
    );
    const gistId = github.addGist({ 'stuck.py': 'pass' });
    // An import whose upstream answers only after the deadline keeps the server from closing.
    github.latencyMs = 6000;
    const stuck = http(base, 'POST', '/api/snippets/import', { owner: 'stuck', gistId }).catch(
      (error: Error) => error,
    );
    await sleep(300);
    const sigtermAt = Date.now();
    deadlineApp.child.kill('SIGTERM');
    const exit = await deadlineApp.exited;
    await stuck;
    github.latencyMs = 0;

    expect(exit.code).toBe(1);
    expect(exit.atMs - sigtermAt).toBeGreaterThanOrEqual(1400);
    expect(exit.atMs - sigtermAt).toBeLessThan(4000);
    const output = deadlineApp.output();
    expect(output).toMatch(/Shutdown deadline of 1500 ms passed/);
    expect(output).toMatch(/still open: .*github/);
    expect(output).not.toContain(TOKEN);
  }, 60_000);
});
