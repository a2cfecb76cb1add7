/* eslint-disable @typescript-eslint/no-unsafe-member-access -- response bodies are JSON checked field by field */
// Readiness that holds under load: CodeBot with a 3-connection MongoDB pool, queries slower than
// its 500 ms wait queue and 30 callers that keep it full. Every readiness probe meanwhile is 200
// and says the pool is saturated; when the server then hangs, readiness is 503 within the health
// timeout + 1 s, and 200 again within 2 s of the server answering.
import { GitHubStandIn } from '../../apps/codebot/src/dev/github-stand-in.js';
import { TelegramStandIn } from '../../apps/codebot/src/dev/telegram-stand-in.js';
import {
  baseEnv,
  buildCodebot,
  type CodebotProcess,
  http,
  type RunningStack,
  stackEnv,
  startCodebot,
  startStack,
  waitForStartup,
  waitUntil,
  wireServerIt,
} from './codebot-harness.js';

const TOKEN = '777004:saturation-test-token';
const HEALTH_TIMEOUT_MS = 1000;
const QUERY_MS = 1500;
const CALLERS = 30;
const wireIt = wireServerIt('the saturation test (it slows and hangs the wire server)');
const external = Boolean(process.env.MONGODB_TEST_URL);

describe('CodeBot readiness while the MongoDB pool is saturated (built app as a child process)', () => {
  let stack: RunningStack | undefined;
  let app: CodebotProcess | undefined;

  beforeAll(async () => {
    if (external) return;
    await buildCodebot();
    stack = await startStack({
      telegram: new TelegramStandIn(TOKEN),
      github: new GitHubStandIn(),
      telegramToken: TOKEN,
      mongo: { tryMemoryServer: false },
    });
    app = await startCodebot(
      baseEnv({
        ...stackEnv(stack),
        MONGODB_MAX_POOL_SIZE: '3',
        MONGODB_MIN_POOL_SIZE: '0',
        MONGODB_WAIT_QUEUE_TIMEOUT_MS: '500',
        MONGODB_HEALTH_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS),
        // Each caller lists its own owner's snippets; the per-owner limit must not answer first.
        RATE_LIMIT_MAX: '1000000',
      }),
    );
    await waitForStartup(app.baseUrl);
  }, 240_000);

  afterAll(async () => {
    await stack?.mongo.wire?.clearFaults();
    const exit = await app?.stop('SIGTERM');
    await stack?.stop();
    if (app) expect(exit?.code).toBe(0);
  });

  wireIt(
    'ready stays 200 and reports saturation under load; 503 when the server hangs; 200 again after',
    async () => {
      const base = app!.baseUrl;
      const wire = stack!.mongo.wire!;
      const ready = () => http(base, 'GET', '/health/ready');
      expect((await ready()).status).toBe(200);

      wire.resetCommandsSeen();
      wire.setLatency(QUERY_MS, 'find');
      let loading = true;
      const loadStatuses = new Map<number, number>();
      // 30 callers, each sending its next request as soon as the last one answered.
      const callers = Array.from({ length: CALLERS }, async (_, i) => {
        while (loading) {
          const res = await http(base, 'GET', `/api/snippets?owner=load-${i}`);
          loadStatuses.set(res.status, (loadStatuses.get(res.status) ?? 0) + 1);
        }
      });
      const probes: { status: number; saturated: unknown; waiting: unknown }[] = [];
      try {
        // The load has reached the pool once a probe sees callers waiting for a connection.
        await waitUntil(
          async () => (await ready()).body?.details?.mongodb?.saturated === true,
          10_000,
          50,
          'readiness reports the pool saturated',
        );
        // Probes for 2 s (longer than one slow query), as a Kubernetes readiness probe would.
        const until = Date.now() + 2000;
        while (Date.now() < until) {
          const res = await ready();
          const mongodb = res.body?.details?.mongodb ?? res.body?.error?.mongodb;
          probes.push({
            status: res.status,
            saturated: mongodb?.saturated,
            waiting: mongodb?.waiting,
          });
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        loading = false;
        await Promise.all(callers);
        wire.setLatency(0, 'find');
      }
      // The queries really ran on the server, three at a time.
      expect(wire.commandsSeen.find ?? 0).toBeGreaterThanOrEqual(3);
      expect(probes.length).toBeGreaterThanOrEqual(5);
      expect(probes.filter((p) => p.status !== 200)).toEqual([]);
      expect(probes.filter((p) => p.saturated !== true)).toEqual([]);
      // Callers past the wait queue get 503 + Retry-After from the filter, never 500.
      expect([...loadStatuses.keys()].sort()).toEqual([200, 503]);

      wire.hang(true);
      const hungAt = performance.now();
      let downAfterMs: number;
      try {
        await waitUntil(
          async () => (await ready()).status === 503,
          HEALTH_TIMEOUT_MS + 5000,
          20,
          'readiness 503 while the server hangs',
        );
        downAfterMs = performance.now() - hungAt;
      } finally {
        wire.hang(false);
      }
      const healedAt = performance.now();
      await waitUntil(
        async () => (await ready()).status === 200,
        10_000,
        20,
        'readiness 200 again',
      );
      const upAfterMs = performance.now() - healedAt;
      console.info(
        `codebot saturation: ${probes.length}/${probes.length} probes 200 and saturated (load answered ${JSON.stringify(Object.fromEntries(loadStatuses))}); 503 ${downAfterMs.toFixed(0)} ms after the hang began; 200 ${upAfterMs.toFixed(0)} ms after it ended`,
      );
      expect(downAfterMs).toBeLessThanOrEqual(HEALTH_TIMEOUT_MS + 1000);
      expect(upAfterMs).toBeLessThanOrEqual(2000);
    },
    90_000,
  );
});
