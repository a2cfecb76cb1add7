import dns from 'node:dns';

import { getFreePort } from '@nest-pools/testing';
import type { HttpService } from '@nestjs/axios';
import { AxiosError } from 'axios';
import { firstValueFrom } from 'rxjs';

import { type HttpHarness, startHttpHarness } from '../support/http.js';

/**
 * `transport: 'http'` honours `dnsCacheTtlMs` as the undici transport does. Keep-alive is off, so
 * every request opens a connection and asks for `localhost`; the system resolver is wrapped to
 * count the questions it gets.
 */
describe('HttpPoolModule on Node agents: the DNS cache (dnsCacheTtlMs)', () => {
  let h: HttpHarness;
  const systemLookup = dns.lookup;
  let asked = 0;

  beforeAll(async () => {
    dns.lookup = function (this: unknown, hostname: string, ...rest: unknown[]) {
      if (hostname === 'localhost') asked++;
      return (systemLookup as (...args: unknown[]) => unknown).call(this, hostname, ...rest);
    } as typeof dns.lookup;
    h = await startHttpHarness({
      pools: (upstream) => {
        const client = {
          baseURL: `http://localhost:${upstream.port}`,
          transport: 'http' as const,
          keepAliveTimeoutMs: 0,
          retries: 0,
        };
        return [
          { name: 'cached', ...client },
          { name: 'uncached', ...client, dnsCacheTtlMs: 0 },
        ];
      },
    });
  });
  afterAll(async () => {
    dns.lookup = systemLookup;
    await h.close();
  });

  const askedDuring = async (work: () => Promise<unknown>): Promise<number> => {
    const before = asked;
    await work();
    return asked - before;
  };
  const getThrice = (http: HttpService) => async () => {
    for (let i = 0; i < 3; i++) await firstValueFrom(http.get('/dns'));
  };

  it('resolves a name once for many connections, and every time with the cache off', async () => {
    const cached = h.http('cached');
    const first = await askedDuring(getThrice(cached));
    const later = await askedDuring(getThrice(cached));
    expect(h.upstream.requestsTo('/dns')).toBe(6);
    expect([first, later]).toEqual([1, 0]);
    // Each connection of the uncached client asks again (net may ask once more per connection).
    expect(await askedDuring(getThrice(h.http('uncached')))).toBeGreaterThanOrEqual(3);
  });

  it("keeps the caller's own lookup option first", async () => {
    const names: string[] = [];
    const res = await firstValueFrom(
      h.http('cached').get(`http://own-lookup.test:${h.upstream.port}/own`, {
        lookup: ((hostname: string, _o: unknown, cb: (e: null, a: string, f: number) => void) => {
          names.push(hostname);
          cb(null, '127.0.0.1', 4);
        }) as never,
      }),
    );
    expect(res.status).toBe(200);
    expect(names).toEqual(['own-lookup.test']);
  });

  it('resolves a name again after a connection to it was refused', async () => {
    const cached = h.http('cached');
    await askedDuring(getThrice(cached));
    expect(await askedDuring(getThrice(cached))).toBe(0);
    const closed = await getFreePort();
    const refused = await firstValueFrom(cached.get(`http://localhost:${closed}/`)).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AxiosError);
    expect((refused as AxiosError).code).toBe('ECONNREFUSED');
    expect(await askedDuring(getThrice(cached))).toBe(1);
  });
});
