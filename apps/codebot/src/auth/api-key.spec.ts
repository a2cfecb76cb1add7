import { MAX_API_KEY_LENGTH, mintApiKey, presentedApiKey, verifyApiKey } from './api-key.js';

const SECRET = 'unit-test-secret-0123456789abcdef0123';
const OLD_SECRET = 'unit-test-old-secret-fedcba9876543210';

describe('mintApiKey / verifyApiKey', () => {
  it('mints <owner>.<43-char base64url signature>, deterministic per owner and secret', () => {
    const key = mintApiKey('alice', SECRET);
    expect(key).toMatch(/^alice\.[A-Za-z0-9_-]{43}$/);
    expect(mintApiKey('alice', SECRET)).toBe(key);
    expect(mintApiKey('bob', SECRET)).not.toBe(key.replace('alice', 'bob'));
    expect(mintApiKey('alice', OLD_SECRET)).not.toBe(key);
  });

  it('accepts a key for the owner it was minted for, dots and colons in owners included', () => {
    for (const owner of ['alice', 'tg:4242', 'team.web-1', 'a'.repeat(64)]) {
      const key = mintApiKey(owner, SECRET);
      expect(key.length).toBeLessThanOrEqual(MAX_API_KEY_LENGTH);
      expect(verifyApiKey(key, { current: SECRET })).toEqual({
        ok: true,
        owner,
        signedWith: 'current',
      });
    }
  });

  it('refuses a key whose owner was changed, or signed with another secret', () => {
    const signature = mintApiKey('alice', SECRET).split('.')[1]!;
    expect(verifyApiKey(`mallory.${signature}`, { current: SECRET })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifyApiKey(mintApiKey('alice', OLD_SECRET), { current: SECRET })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses a signature differing in one character', () => {
    const key = mintApiKey('alice', SECRET);
    const last = key.at(-1) === 'A' ? 'B' : 'A';
    expect(verifyApiKey(key.slice(0, -1) + last, { current: SECRET }).ok).toBe(false);
  });

  it('keeps accepting keys of the previous secret during a rotation, and says which matched', () => {
    const old = mintApiKey('alice', OLD_SECRET);
    const secrets = { current: SECRET, previous: OLD_SECRET };
    expect(verifyApiKey(old, secrets)).toEqual({
      ok: true,
      owner: 'alice',
      signedWith: 'previous',
    });
    expect(verifyApiKey(mintApiKey('alice', SECRET), secrets)).toMatchObject({
      signedWith: 'current',
    });
    // Once the previous secret is dropped, its keys are revoked.
    expect(verifyApiKey(old, { current: SECRET }).ok).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['no dot', 'alice'],
    ['no owner', `.${'A'.repeat(43)}`],
    ['short signature', 'alice.abc'],
    ['long signature', `alice.${'A'.repeat(44)}`],
    ['padding', `alice.${'A'.repeat(42)}=`],
    ['owner outside the pattern', `al ice.${'A'.repeat(43)}`],
    ['too long', `${'a'.repeat(70)}.${'A'.repeat(43)}`],
  ])('calls a key with %s malformed', (_title, key) => {
    expect(verifyApiKey(key, { current: SECRET })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses to mint for an owner the API would reject', () => {
    expect(() => mintApiKey('bad owner', SECRET)).toThrow(/Not a valid owner id/);
  });
});

describe('presentedApiKey', () => {
  const key = mintApiKey('alice', SECRET);

  it('reads Authorization: Bearer (any case) and X-Api-Key', () => {
    expect(presentedApiKey({ authorization: `Bearer ${key}` })).toEqual({ kind: 'key', key });
    expect(presentedApiKey({ authorization: `bearer  ${key} ` })).toEqual({ kind: 'key', key });
    expect(presentedApiKey({ 'x-api-key': ` ${key} ` })).toEqual({ kind: 'key', key });
    expect(presentedApiKey({ authorization: `Bearer ${key}`, 'x-api-key': key })).toEqual({
      kind: 'key',
      key,
    });
  });

  it('reports a missing key', () => {
    expect(presentedApiKey({})).toEqual({ kind: 'missing' });
  });

  it.each([
    ['another scheme', { authorization: 'Basic YWxpY2U6cHc=' }],
    ['Bearer without a key', { authorization: 'Bearer ' }],
    ['two words', { authorization: 'Bearer a b' }],
    ['an empty X-Api-Key', { 'x-api-key': ' ' }],
    ['a repeated X-Api-Key', { 'x-api-key': [key, key] }],
    ['two different keys', { authorization: `Bearer ${key}`, 'x-api-key': 'other.key' }],
  ])('calls %s malformed, without echoing the key', (_title, headers) => {
    const presented = presentedApiKey(headers);
    expect(presented.kind).toBe('malformed');
    expect(JSON.stringify(presented)).not.toContain(key);
  });
});
