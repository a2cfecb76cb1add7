import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import { HttpPoolModule } from '@nest-pools/http';
import { type HttpTestUpstream, startHttpUpstream } from '@nest-pools/testing';
import { HttpService } from '@nestjs/axios';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';

/**
 * The keep-alive race: the upstream closes sockets idle for 1 s while the client sends at random
 * intervals around 1 s on sockets it still believes open. The upstream advertises
 * `Keep-Alive: timeout=5` (more than it keeps), so the client cannot dodge the race by idling
 * out first and must rely on retrying the reset of a reused socket.
 *
 * 5,000 GETs run as 250 concurrent lanes of 20 requests each, every request after a random pause
 * of 0.85–1.15 s, which bounds the suite to about 25 s on an idle machine while keeping each socket's idle time near
 * the upstream's 1 s.
 */
const LANES = 250;
const PER_LANE = 20;

describe('HttpPoolModule: keep-alive race', () => {
  let upstream: HttpTestUpstream;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    upstream = await startHttpUpstream({ keepAliveTimeoutMs: 1000, keepAliveHeaderSeconds: 5 });
    moduleRef = await Test.createTestingModule({
      imports: [
        HttpPoolModule.forRoot({
          baseURL: upstream.url,
          poolLimit: LANES,
          limitPerHost: LANES,
          keepAliveTimeoutMs: 4000,
          retries: 2,
          retryBackoffMs: 10,
          // Bursts of 250 requests on a busy CI machine can queue for seconds; only races count.
          timeoutTotalMs: 30_000,
        }),
      ],
    }).compile();
    await moduleRef.init();
  });

  afterAll(async () => {
    await moduleRef?.close();
    await upstream?.close();
  });

  it('loses no GET over 5,000 requests sent around the upstream idle timeout', async () => {
    const http = moduleRef.get(HttpService);
    const failures: string[] = [];
    let ok = 0;
    const lane = async () => {
      for (let i = 0; i < PER_LANE; i++) {
        await new Promise((r) => setTimeout(r, 850 + Math.random() * 300));
        try {
          const res = await firstValueFrom(http.get('/race'));
          if (res.status === 200) ok++;
        } catch (error) {
          failures.push(String((error as { code?: string }).code ?? error));
        }
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));

    const text = await moduleRef.get<Registry>(POOL_METRICS_REGISTRY).metrics();
    const resets = /http_client_retries_total\{[^}]*reason="connection_reset"[^}]*\} (\d+)/.exec(
      text,
    )?.[1];
    process.stdout.write(
      `keep-alive race: ${ok} ok, ${failures.length} failed, ${resets ?? 0} reset retries, ` +
        `${upstream.totalConnections} upstream connections\n`,
    );
    const byCode: Record<string, number> = {};
    for (const code of failures) byCode[code] = (byCode[code] ?? 0) + 1;
    expect(byCode).toEqual({});
    expect(ok).toBe(LANES * PER_LANE);
    // Sockets were really closed under the client and replaced.
    expect(upstream.totalConnections).toBeGreaterThan(LANES);
  }, 60_000);
});
