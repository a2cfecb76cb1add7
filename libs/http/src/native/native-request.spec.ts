import { NativeTargets } from './native-request.js';

/** What the requester sent before absolute URLs had a fast path: the URL parser's own answer. */
function parsed(url: string): { origin: string; path: string } {
  const u = new URL(url);
  return { origin: u.origin, path: u.pathname + u.search };
}

describe('NativeTargets.resolve with absolute URLs', () => {
  const targets = new NativeTargets('test', undefined);

  it.each([
    'http://127.0.0.1:8080/snippet',
    'http://127.0.0.1:8080',
    'http://127.0.0.1:8080?x=1',
    'http://127.0.0.1:8080/a?',
    'http://127.0.0.1:8080/a?b?',
    'http://127.0.0.1:8080/a/b/?q=1&r=%20x',
    'https://API.example.com:443/v1/items',
    'http://example.com:80/x',
    'http://[::1]:9000/x',
    'http://h/a/../b',
    'http://h/a/./b',
    'http://h/a/%2e%2e/b',
    'http://h/a b',
    "http://h/a?b='c'",
    'http://h/a#frag',
    'http://h/a?x=<1>',
    'http://h/a\\b',
    'http://h/ünï',
    'http://user:pw@h/a',
    'http://h/a?x=|^`{}',
  ])('%s → the same origin and target as the URL parser', (url) => {
    const { origin, path } = targets.resolve(url, undefined);
    expect({ origin: origin.origin, path }).toEqual(parsed(url));
  });

  it('parses each origin once however often it is used', () => {
    const a = targets.resolve('http://127.0.0.1:1/a', undefined).origin;
    const b = targets.resolve('http://127.0.0.1:1/b?c=d', undefined).origin;
    expect(b).toBe(a);
  });

  it('refuses a scheme other than http and https on the fast path too', () => {
    expect(() => targets.resolve('ftp://h/a', undefined)).toThrow(/must use http: or https:/);
  });
});
