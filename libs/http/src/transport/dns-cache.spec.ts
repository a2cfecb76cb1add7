import type { LookupAddress } from 'node:dns';

import { DnsCache, type ResolveAll } from './dns-cache.js';

/** A resolver that answers from `table` when told to, counting the questions it was asked. */
function scriptedResolver(table: Record<string, LookupAddress[]>) {
  const asked: Array<{ hostname: string; family: number }> = [];
  const waiting: Array<() => void> = [];
  const resolveAll: ResolveAll = (hostname, options, callback) => {
    asked.push({ hostname, family: options.family });
    waiting.push(() => {
      const all = table[hostname];
      if (!all) {
        callback(
          Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
          [],
        );
        return;
      }
      callback(
        null,
        all.filter((a) => options.family === 0 || a.family === options.family),
      );
    });
  };
  return { asked, resolveAll, answerAll: () => waiting.splice(0).forEach((answer) => answer()) };
}

const V4 = (address: string): LookupAddress => ({ address, family: 4 });
const V6 = (address: string): LookupAddress => ({ address, family: 6 });

/** One lookup as `net.connect` makes it, its answer once the resolver gave it. */
function lookup(
  cache: DnsCache,
  hostname: string,
  options: { family?: number; all?: boolean } = {},
): Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }> {
  return new Promise((resolve) => {
    cache.lookup(hostname, options, (error, address, family) =>
      resolve({ error, address, family }),
    );
  });
}

describe('DnsCache (the DNS cache of the Node agents transport)', () => {
  let now = 0;
  beforeEach(() => {
    now = 1000;
  });

  it('asks the resolver once per name within the TTL, and again after it', async () => {
    const dns = scriptedResolver({ 'api.test': [V4('10.0.0.1')] });
    const cache = new DnsCache({ ttlMs: 5000, now: () => now, resolveAll: dns.resolveAll });
    const first = lookup(cache, 'api.test');
    dns.answerAll();
    expect(await first).toEqual({ error: null, address: '10.0.0.1', family: 4 });
    now += 4999;
    expect(await lookup(cache, 'API.test')).toEqual({
      error: null,
      address: '10.0.0.1',
      family: 4,
    });
    expect(dns.asked).toHaveLength(1);
    now += 1;
    const expired = lookup(cache, 'api.test');
    expect(dns.asked).toHaveLength(2);
    dns.answerAll();
    expect((await expired).address).toBe('10.0.0.1');
  });

  it('shares one resolution between overlapping lookups of a name', async () => {
    const dns = scriptedResolver({ 'api.test': [V4('10.0.0.1')] });
    const cache = new DnsCache({ ttlMs: 5000, now: () => now, resolveAll: dns.resolveAll });
    const answers = [
      lookup(cache, 'api.test'),
      lookup(cache, 'api.test'),
      lookup(cache, 'api.test'),
    ];
    expect(dns.asked).toHaveLength(1);
    dns.answerAll();
    expect((await Promise.all(answers)).map((a) => a.address)).toEqual([
      '10.0.0.1',
      '10.0.0.1',
      '10.0.0.1',
    ]);
  });

  it('keeps no failure: the next lookup asks again', async () => {
    const dns = scriptedResolver({});
    const cache = new DnsCache({ ttlMs: 5000, now: () => now, resolveAll: dns.resolveAll });
    const [one, two] = [lookup(cache, 'gone.test'), lookup(cache, 'gone.test')];
    dns.answerAll();
    expect((await one).error?.code).toBe('ENOTFOUND');
    expect((await two).error?.code).toBe('ENOTFOUND');
    const again = lookup(cache, 'gone.test', { all: true });
    dns.answerAll();
    expect(await again).toMatchObject({ address: [], error: { code: 'ENOTFOUND' } });
    expect(dns.asked).toHaveLength(2);
    expect(cache.size).toBe(0);
  });

  it('refuses an empty answer as ENOTFOUND rather than keeping it', async () => {
    const dns = scriptedResolver({ 'v6only.test': [V6('fd00::1')] });
    const cache = new DnsCache({ ttlMs: 5000, now: () => now, resolveAll: dns.resolveAll });
    const v4 = lookup(cache, 'v6only.test', { family: 4 });
    dns.answerAll();
    expect((await v4).error).toMatchObject({ code: 'ENOTFOUND', hostname: 'v6only.test' });
    expect(cache.size).toBe(0);
  });

  it('rotates the addresses of the first family, one further per connection', async () => {
    const dns = scriptedResolver({
      'multi.test': [V4('10.0.0.1'), V4('10.0.0.2'), V6('fd00::1'), V4('10.0.0.3')],
    });
    const cache = new DnsCache({ ttlMs: 5000, now: () => now, resolveAll: dns.resolveAll });
    const first = lookup(cache, 'multi.test');
    dns.answerAll();
    const single = [(await first).address];
    for (let i = 0; i < 3; i++) single.push((await lookup(cache, 'multi.test')).address);
    expect(single).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1']);
    // `all`: the rotated first family, then the others in the resolver's order.
    expect((await lookup(cache, 'multi.test', { all: true })).address).toEqual([
      V4('10.0.0.2'),
      V4('10.0.0.3'),
      V4('10.0.0.1'),
      V6('fd00::1'),
    ]);
  });

  it('keeps each address family apart', async () => {
    const dns = scriptedResolver({ 'dual.test': [V6('fd00::1'), V4('10.0.0.1')] });
    const cache = new DnsCache({ ttlMs: 5000, now: () => now, resolveAll: dns.resolveAll });
    const answers = [
      lookup(cache, 'dual.test', { family: 4 }),
      lookup(cache, 'dual.test', { family: 6 }),
      lookup(cache, 'dual.test'),
    ];
    dns.answerAll();
    expect((await Promise.all(answers)).map((a) => [a.address, a.family])).toEqual([
      ['10.0.0.1', 4],
      ['fd00::1', 6],
      ['fd00::1', 6],
    ]);
    expect(dns.asked.map((a) => a.family)).toEqual([4, 6, 0]);
  });

  it('forgets a name on demand (a refused connection), every family of it', async () => {
    const dns = scriptedResolver({ 'api.test': [V4('10.0.0.1')], 'other.test': [V4('10.0.0.9')] });
    const cache = new DnsCache({ ttlMs: 5000, now: () => now, resolveAll: dns.resolveAll });
    const filled = [
      lookup(cache, 'api.test'),
      lookup(cache, 'api.test', { family: 4 }),
      lookup(cache, 'other.test'),
    ];
    dns.answerAll();
    await Promise.all(filled);
    expect(cache.size).toBe(3);
    cache.forget('API.TEST');
    expect(cache.size).toBe(1);
    const again = lookup(cache, 'api.test');
    expect(dns.asked).toHaveLength(4);
    dns.answerAll();
    expect((await again).address).toBe('10.0.0.1');
  });

  it('never asks the resolver about an IP literal', async () => {
    const dns = scriptedResolver({});
    const cache = new DnsCache({ ttlMs: 5000, now: () => now, resolveAll: dns.resolveAll });
    expect(await lookup(cache, '127.0.0.1')).toEqual({
      error: null,
      address: '127.0.0.1',
      family: 4,
    });
    expect(dns.asked).toHaveLength(0);
  });

  it('sweeps expired names out once it holds many', async () => {
    const table = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`h${i}.test`, [V4(`10.0.${i >> 8}.${i & 255}`)]]),
    );
    const dns = scriptedResolver(table);
    const cache = new DnsCache({ ttlMs: 5000, now: () => now, resolveAll: dns.resolveAll });
    for (let i = 0; i < 256; i++) {
      const answer = lookup(cache, `h${i}.test`);
      dns.answerAll();
      await answer;
    }
    expect(cache.size).toBe(256);
    now += 5000;
    const late = lookup(cache, 'h299.test');
    dns.answerAll();
    await late;
    expect(cache.size).toBe(1);
  });
});
