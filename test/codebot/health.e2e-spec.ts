/* eslint-disable @typescript-eslint/no-unsafe-member-access -- response bodies are JSON checked field by field by the assertions */
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
  wireServerIt,
} from './codebot-harness.js';

const TOKEN = '777002:health-test-token';

// The outage is made by stopping and restarting the test kit's wire server on the same port.
const mongoOutageIt = wireServerIt('the MongoDB outage test (it stops the server)');

describe('CodeBot health transitions (built app as a child process)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let mongo: Awaited<ReturnType<typeof startMongo>>;
  const telegram = new TelegramStandIn(TOKEN);
  const github = new GitHubStandIn();
  let app: CodebotProcess;

  beforeAll(async () => {
    await buildCodebot();
    [redis, mongo] = await Promise.all([
      startRedis(),
      startMongo({ dbPrefix: 'codebot', tryMemoryServer: false }),
      telegram.start(),
      github.start(),
    ]).then(([r, m]) => [r, m] as const);
    app = await startCodebot(
      baseEnv({
        ...stackEnv({ redis, mongo, telegram, github, telegramToken: TOKEN }),
        // Redis recovery is noticed by its reconnect loop, here at most 1 s apart (default 5 s).
        // MongoDB keeps its default 10 s heartbeat: the readiness ping itself makes the driver
        // re-check a lost server at once.
        REDIS_RETRY_MAX_DELAY_MS: '1000',
      }),
    );
    await waitUntil(
      async () => (await http(app.baseUrl, 'GET', '/health/startup')).status === 200,
      15_000,
      100,
      'startup',
    );
  }, 240_000);

  afterAll(async () => {
    const exit = await app?.stop('SIGTERM');
    await Promise.all([redis?.stop(), mongo?.stop(), telegram.close(), github.close()]);
    expect(exit?.code).toBe(0);
  });

  const ready = () => http(app.baseUrl, 'GET', '/health/ready');

  async function expectOutageAndRecovery(
    key: 'redis' | 'mongodb',
    stop: () => Promise<void>,
    start: () => Promise<void>,
    whileDown?: () => Promise<void>,
  ): Promise<void> {
    expect((await ready()).status).toBe(200);
    await stop();
    const downAfter = await waitUntil(
      async () => {
        const res = await ready();
        return res.status === 503 && res.body?.error?.[key]?.status === 'down';
      },
      2000,
      50,
      `/health/ready 503 naming ${key}`,
    );
    expect(downAfter).toBeLessThanOrEqual(2000);
    // Liveness checks nothing external.
    const live = await http(app.baseUrl, 'GET', '/health/live');
    expect(live.status).toBe(200);
    const full = await http(app.baseUrl, 'GET', '/health');
    expect(full.status).toBe(503);
    expect(full.body.error[key].status).toBe('down');
    await whileDown?.();

    await start();
    const upAfter = await waitUntil(
      async () => (await ready()).status === 200,
      3000,
      50,
      `${key} back`,
    );
    expect(upAfter).toBeLessThanOrEqual(3000);
  }

  it('Redis stopped → ready 503 naming redis within 2 s; started → 200 within 3 s', async () => {
    await expectOutageAndRecovery(
      'redis',
      () => redis.stop({ keepData: true }),
      async () => {
        await redis.start();
      },
      async () => {
        // Without de-duplication an update could run twice: Telegram is asked to retry later.
        const update = {
          update_id: 77,
          message: {
            message_id: 1,
            from: { id: 3 },
            chat: { id: 3, type: 'private' },
            text: '/help',
          },
        };
        const res = await http(app.baseUrl, 'POST', '/telegram/webhook', update);
        expect(res.status).toBe(503);
        expect(telegram.messagesFor(3)).toHaveLength(0);
      },
    );
  });

  mongoOutageIt(
    'MongoDB stopped → ready 503 naming mongodb within 2 s; started → 200 within 3 s',
    async () => {
      const wire = mongo.wire;
      if (!wire)
        throw new Error(`the ${mongo.kind} MongoDB backend cannot be restarted by the test`);
      await expectOutageAndRecovery(
        'mongodb',
        () => wire.stop(),
        () => wire.start(),
      );
    },
  );

  it('optional upstreams down → degraded, still 200', async () => {
    await github.close();
    await telegram.close();
    // Each upstream's health outcome is cached for its own window: the overall status turns
    // degraded with the first of the two, so wait for an answer that has both.
    await waitUntil(
      async () => {
        const res = await ready();
        return (
          res.status === 200 &&
          res.body.details?.github?.status === 'degraded' &&
          res.body.details?.telegram?.status === 'degraded'
        );
      },
      5000,
      100,
      'both optional upstreams degraded',
    );
    const res = await ready();
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('degraded');
    expect(res.body.details.github.status).toBe('degraded');
    expect(res.body.details.telegram.status).toBe('degraded');
    expect(res.body.info.mongodb.status).toBe('up');
  });
});
