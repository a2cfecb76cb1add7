import type { Socket } from 'node:net';

import { firstValueFrom } from 'rxjs';

import { type HttpHarness, startHttpHarness } from '../support/http.js';

/**
 * The keep-alive race, made certain: the upstream closes every keep-alive socket exactly when the
 * client reuses it — the reused request has been written, and the socket goes away unanswered,
 * which is what the client sees when the upstream's idle timer fires at the same moment. Odd
 * connections are closed with a FIN ("other side closed"), even ones with an RST (ECONNRESET),
 * the two shapes the real race takes. The upstream advertises `Keep-Alive: timeout=30` and never
 * idles sockets out itself, so the client has every reason to reuse them.
 *
 * Each lane is its own pooled client with one connection, sending sequentially, so which socket
 * a request lands on does not depend on scheduling: request 1 opens a socket, every later request
 * reuses the socket of the previous success, is cut off, and must be retried on a fresh socket.
 * Every count below is therefore exact.
 */
const LANES = 8;
const PER_LANE = 25;

describe('HttpPoolModule: keep-alive race', () => {
  let harness: HttpHarness;
  /** Requests received per upstream connection id. */
  const requestsOnConnection = new Map<number, number>();
  let closedOnReuse = 0;

  beforeAll(async () => {
    harness = await startHttpHarness({
      upstream: {
        keepAliveTimeoutMs: 0,
        keepAliveHeaderSeconds: 30,
        handler: (req, _res, { record }) => {
          const n = (requestsOnConnection.get(record.connectionId) ?? 0) + 1;
          requestsOnConnection.set(record.connectionId, n);
          if (n === 1) return false; // first request on the socket: answer normally
          closedOnReuse++;
          const socket: Socket = req.socket;
          if (record.connectionId % 2 === 0) socket.resetAndDestroy();
          else socket.destroy();
          return true;
        },
      },
      pools: (upstream) =>
        Array.from({ length: LANES }, (_, lane) => ({
          name: `lane${lane}`,
          baseURL: upstream.url,
          poolLimit: 1,
          limitPerHost: 1,
          keepAliveTimeoutMs: 20_000,
          retries: 2,
          retryBackoffMs: 10,
        })),
    });
  });

  afterAll(() => harness?.close());

  it('loses no GET when the upstream closes each keep-alive socket as the client reuses it', async () => {
    const failures: string[] = [];
    let ok = 0;
    const lane = async (index: number) => {
      const http = harness.http(`lane${index}`);
      for (let i = 0; i < PER_LANE; i++) {
        try {
          const res = await firstValueFrom(http.get('/race'));
          if (res.status === 200) ok++;
        } catch (error) {
          failures.push(String((error as { code?: string }).code ?? error));
        }
      }
    };
    await Promise.all(Array.from({ length: LANES }, (_, index) => lane(index)));

    const { upstream } = harness;
    const resetRetries = await harness.retries('connection_reset');
    process.stdout.write(
      `keep-alive race: ${ok} ok, ${failures.length} failed, ${closedOnReuse} sockets closed on ` +
        `reuse, ${resetRetries} reset retries, ${upstream.totalConnections} upstream connections, ` +
        `${upstream.totalRequests} upstream requests\n`,
    );
    const byCode: Record<string, number> = {};
    for (const code of failures) byCode[code] = (byCode[code] ?? 0) + 1;
    expect(byCode).toEqual({});
    expect(ok).toBe(LANES * PER_LANE);
    // Every request after a lane's first met a socket closed under it, and was retried once.
    expect(closedOnReuse).toBe(LANES * (PER_LANE - 1));
    expect(resetRetries).toBe(LANES * (PER_LANE - 1));
    // Each success had a socket of its own; each cut-off request was really sent on a reused one.
    expect(upstream.totalConnections).toBe(LANES * PER_LANE);
    expect(upstream.totalRequests).toBe(LANES * PER_LANE + LANES * (PER_LANE - 1));
    expect([...requestsOnConnection.values()].filter((n) => n === 2)).toHaveLength(
      LANES * (PER_LANE - 1),
    );
  }, 60_000);
});
