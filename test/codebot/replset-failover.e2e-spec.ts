import { Agent } from 'node:http';

import type { MongoWireReplicaSet } from '@nest-pools/testing';
import { MongoClient } from 'mongodb';

import { mintApiKey } from '../../apps/codebot/src/auth/api-key.js';
import { GitHubStandIn } from '../../apps/codebot/src/dev/github-stand-in.js';
import { TelegramStandIn } from '../../apps/codebot/src/dev/telegram-stand-in.js';
import { trackTimerLag } from '../support/mongo.js';
import {
  paceWrites,
  type ReadinessSample,
  sampleProbe,
  waitForSocketsWithinPool,
} from '../support/mongo-failover.js';
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
} from './codebot-harness.js';

const TOKEN = '777013:replset-failover-token';
const SECRET = 'replset-failover-secret-0123456789abcdef';
const OWNER = 'loadtest';
const MAX_POOL = 10;
const HEARTBEAT_MS = 500;
/** Longer than the health timeout, so readiness has to notice the missing primary. */
const ELECTION_DELAY_MS = 1000;
const HEALTH_TIMEOUT_MS = 500;
const WRITES_PER_SECOND = 200;
const LOAD_MS = 5000;
const FAULT_AT_MS = 1500;

/** One POST of the load: when it was sent and answered, and how. */
interface Outcome {
  seq: number;
  sentAt: number;
  answeredAt: number;
  status: number;
  retryAfter?: string;
}

/** What a failover run measured (times in ms, on this process's `performance.now()`). */
interface FailoverNumbers {
  issued: number;
  acked: number;
  failed: Outcome[];
  lost: number[];
  duplicated: number[];
  conflicts: number;
  faultAt: number;
  electedAt: number;
  firstUp: ReadinessSample;
  /** First 201 answered after the election. */
  writesBackAt: number;
  samples: ReadinessSample[];
  sockets: number[];
  timerLag: number;
}

/**
 * CodeBot (the built app, as a child process) on a three-member wire replica set: ~200 snippet
 * writes/s through its REST API while the primary steps down or is killed. Every acknowledged
 * write must be stored once, requests may fail only (with 503 and Retry-After) while there is no
 * primary, and readiness must be 503 only then.
 */
describe('CodeBot on a replica set under failover (built app as a child process)', () => {
  let stack: RunningStack | undefined;
  let app: CodebotProcess | undefined;
  const writes = new Agent({ keepAlive: true });
  const probes = new Agent({ keepAlive: true, maxSockets: 1 });
  const auth = { authorization: `Bearer ${mintApiKey(OWNER, SECRET)}` };

  beforeAll(() => buildCodebot(), 300_000);

  afterEach(async () => {
    const exit = await app?.stop('SIGTERM');
    app = undefined;
    await stack?.stop();
    stack = undefined;
    // A graceful exit, also after a killed member (when the app was started at all).
    if (exit) expect(exit.code).toBe(0);
  });

  afterAll(() => {
    writes.destroy();
    probes.destroy();
  });

  const boot = async (): Promise<{ rs: MongoWireReplicaSet; base: string }> => {
    stack = await startStack({
      telegram: new TelegramStandIn(TOKEN),
      github: new GitHubStandIn(),
      telegramToken: TOKEN,
      replSet: { members: 3, name: 'codebot', electionDelayMs: ELECTION_DELAY_MS },
    });
    app = await startCodebot(
      baseEnv({
        ...stackEnv(stack),
        API_TOKEN_SECRET: SECRET,
        RATE_LIMIT_MAX: '1000000',
        MONGODB_MAX_POOL_SIZE: String(MAX_POOL),
        MONGODB_MIN_POOL_SIZE: '0',
        MONGODB_HEARTBEAT_FREQUENCY_MS: String(HEARTBEAT_MS),
        MONGODB_HEALTH_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS),
      }),
    );
    const base = app.baseUrl;
    await waitForStartup(base);
    await waitUntil(
      async () => (await http(base, 'GET', '/health/ready')).status === 200,
      15_000,
      50,
      '/health/ready 200',
    );
    return { rs: stack.replSet!, base };
  };

  /** POSTs snippet `seq`, recording the outcome; rejects unless 201. */
  const post = async (base: string, seq: number, outcomes: Outcome[]): Promise<void> => {
    const sentAt = performance.now();
    const body = { owner: OWNER, name: `s${seq}.js`, language: 'javascript', code: `// ${seq}` };
    // A request that got no answer at all (connection refused or reset) counts as status 0.
    const res = await http(base, 'POST', '/api/snippets', body, auth, writes).catch(
      () => undefined,
    );
    const status = res?.status ?? 0;
    const retryAfter = res?.headers['retry-after'];
    outcomes.push({
      seq,
      sentAt,
      answeredAt: performance.now(),
      status,
      ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
    });
    if (status !== 201) throw new Error(`POST s${seq}.js answered ${status}`);
  };

  /** Readiness as the app answers it, with the Mongo part of the body. */
  const readiness = (base: string) =>
    sampleProbe(async () => {
      const res = await http<{ details?: { mongodb?: { status?: string; primary?: string } } }>(
        base,
        'GET',
        '/health/ready',
        undefined,
        {},
        probes,
      ).catch((error: unknown) => ({ status: 0, body: undefined, error }));
      const mongo = res.body?.details?.mongodb;
      return {
        status: String(res.status),
        message: `mongodb ${mongo?.status ?? '?'} primary ${mongo?.primary ?? 'none'}`,
      };
    });

  /** Snippets stored per sequence number, read from the set's primary. */
  const storedCounts = async (rs: MongoWireReplicaSet): Promise<Map<number, number>> => {
    const client = new MongoClient(rs.uri('codebot'), { serverSelectionTimeoutMS: 5000 });
    try {
      const rows = await client
        .db('codebot')
        .collection('snippets')
        .aggregate<{ _id: string; n: number }>([
          { $match: { owner: OWNER } },
          { $group: { _id: '$code', n: { $sum: 1 } } },
        ])
        .toArray();
      return new Map(rows.map((r) => [Number(r._id.replace('// ', '')), r.n]));
    } finally {
      await client.close();
    }
  };

  const failover = async (fault: 'stepDown' | 'kill'): Promise<FailoverNumbers> => {
    const { rs, base } = await boot();
    const outcomes: Outcome[] = [];
    const sampler = readiness(base);
    const lag = trackTimerLag();
    let faultAt = 0;
    const load = await paceWrites((seq) => post(base, seq, outcomes), {
      perSecond: WRITES_PER_SECOND,
      durationMs: LOAD_MS,
      at: {
        [FAULT_AT_MS]: () => {
          faultAt = performance.now();
          if (fault === 'stepDown') rs.stepDown();
          else void rs.kill(rs.primary!);
        },
      },
    });
    const timerLag = lag.stop();
    const samples = await sampler.stop();

    const elected = rs.events.find((e) => e.kind === 'elected' && e.at > faultAt);
    expect(elected).toBeDefined();
    const firstUp = samples.find((s) => s.status === '200' && s.start >= elected!.at);
    expect(firstUp).toBeDefined();

    const sockets = await waitForSocketsWithinPool(rs, MAX_POOL);
    const stored = await storedCounts(rs);
    return {
      issued: load.issued,
      acked: load.acked.length,
      failed: outcomes.filter((o) => o.status !== 201),
      lost: load.acked.filter((seq) => !stored.has(seq)),
      duplicated: [...stored].filter(([, n]) => n > 1).map(([seq]) => seq),
      conflicts: outcomes.filter((o) => o.status === 409).length,
      faultAt,
      electedAt: elected!.at,
      firstUp: firstUp!,
      writesBackAt: Math.min(
        ...outcomes
          .filter((o) => o.status === 201 && o.answeredAt >= elected!.at)
          .map((o) => o.answeredAt),
      ),
      samples,
      sockets,
      timerLag,
    };
  };

  /** The guarantees both faults share; returns ms from the election to readiness 200. */
  const expectFailoverGuarantees = (fault: string, m: FailoverNumbers): number => {
    // Every write was answered; every acknowledged one is stored exactly once.
    expect(m.acked + m.failed.length).toBe(m.issued);
    expect(m.lost).toEqual([]);
    expect(m.duplicated).toEqual([]);
    expect(m.conflicts).toBe(0);
    // Failures: 503 with Retry-After, sent before the election and answered before readiness
    // was back — never once the app had a primary again.
    for (const failure of m.failed) {
      expect(failure).toMatchObject({ status: 503, retryAfter: expect.any(String) });
      expect(failure.sentAt).toBeLessThan(m.electedAt);
      expect(failure.answeredAt).toBeLessThan(m.firstUp.end);
    }

    // Readiness: 200 before the fault, 503 while there is no primary (and only for Mongo),
    // 200 from the first success after the election on.
    const before = m.samples.filter((s) => s.end < m.faultAt);
    expect(before.length).toBeGreaterThan(0);
    expect(before.filter((s) => s.status !== '200')).toEqual([]);
    const down = m.samples.filter((s) => s.status !== '200');
    expect(down.length).toBeGreaterThan(0);
    for (const sample of down) {
      expect(sample.start).toBeGreaterThanOrEqual(m.faultAt - HEALTH_TIMEOUT_MS);
      expect(sample.start).toBeLessThan(m.firstUp.start);
      expect(sample).toMatchObject({
        status: '503',
        message: expect.stringMatching(/^mongodb down/),
      });
    }
    expect(m.samples.filter((s) => s.start >= m.firstUp.start && s.status !== '200')).toEqual([]);
    const readyAfterMs = m.firstUp.end - m.electedAt;
    const windowMs = Math.max(...down.map((s) => s.end)) - Math.min(...down.map((s) => s.start));
    console.info(
      `CodeBot ${fault}: ${m.issued} POSTs, ${m.acked} acknowledged (201), ${m.failed.length} ` +
        `answered 503 (all sent before the election), lost ${m.lost.length}, duplicated ` +
        `${m.duplicated.length}, 409s ${m.conflicts}; election ${Math.round(m.electedAt - m.faultAt)} ms ` +
        `after the fault; /health/ready 503 for ${Math.round(windowMs)} ms (${down.length} probes), ` +
        `200 again ${Math.round(readyAfterMs)} ms after the election; first 201 after the ` +
        `election ${Math.round(m.writesBackAt - m.electedAt)} ms after it; server-side sockets per ` +
        `member afterwards ${m.sockets.join('/')} (pool ${MAX_POOL}); timer lag ${Math.round(m.timerLag)} ms`,
    );
    return readyAfterMs;
  };

  it('primary steps down under 200 writes/s: nothing lost or doubled, ready ≤ 2 s after the election', async () => {
    const numbers = await failover('stepDown');
    const readyAfterMs = expectFailoverGuarantees('step-down', numbers);
    expect(readyAfterMs).toBeLessThanOrEqual(2000);
  }, 90_000);

  it('primary killed under 200 writes/s: same guarantees, ready ≤ heartbeatFrequencyMS + 1 s after the election', async () => {
    const numbers = await failover('kill');
    const readyAfterMs = expectFailoverGuarantees('kill', numbers);
    expect(readyAfterMs).toBeLessThanOrEqual(HEARTBEAT_MS + 1000);
  }, 90_000);
});
