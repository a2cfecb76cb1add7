import { Readable } from 'node:stream';

import type { InternalAxiosRequestConfig } from 'axios';
import axios, { AxiosError, AxiosHeaders } from 'axios';

import type { TransportAttempt } from './transport.interface.js';
import type { UndiciExchange } from './undici-transport.request.js';
import {
  requestInfo,
  toRequestBody,
  undiciHeaders,
  undiciRequestOptions,
} from './undici-transport.request.js';

const config = (overrides: Partial<InternalAxiosRequestConfig> = {}): InternalAxiosRequestConfig =>
  ({ headers: new AxiosHeaders(), ...overrides }) as InternalAxiosRequestConfig;

/** The flat `[name, value, …]` list as a lower-cased name → value map. */
function headerMap(list: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < list.length; i += 2) out[String(list[i]).toLowerCase()] = list[i + 1];
  return out;
}

function attemptFor(href: string, method: string, cfg = config()): TransportAttempt {
  return {
    config: cfg,
    url: new URL(href),
    origin: new URL(href).origin,
    method,
    signal: new AbortController().signal,
    aborted: false,
    reason: undefined,
    onAbort: () => undefined,
  };
}

describe('undici request: headers', () => {
  it('adds axios defaults: User-Agent and Accept-Encoding', () => {
    const headers = headerMap(undiciHeaders(config()));
    expect(headers['user-agent']).toBe(`axios/${axios.VERSION}`);
    expect(headers['accept-encoding']).toBe('gzip, deflate, br');
  });

  it("keeps the caller's User-Agent and Accept-Encoding", () => {
    const cfg = config({
      headers: new AxiosHeaders({ 'User-Agent': 'bot/1', 'Accept-Encoding': 'identity' }),
    });
    const headers = headerMap(undiciHeaders(cfg));
    expect(headers['user-agent']).toBe('bot/1');
    expect(headers['accept-encoding']).toBe('identity');
  });

  it('asks for no encoding when decompress is false', () => {
    expect(headerMap(undiciHeaders(config({ decompress: false })))).not.toHaveProperty(
      'accept-encoding',
    );
  });

  it('sends a header set to null or false nowhere, and adds no default in its place', () => {
    const cfg = config({
      headers: new AxiosHeaders({ 'User-Agent': false, 'X-Gone': null }),
    });
    const headers = headerMap(undiciHeaders(cfg));
    expect(headers).not.toHaveProperty('user-agent');
    expect(headers).not.toHaveProperty('x-gone');
  });

  it('drops hop-by-hop headers undici manages itself', () => {
    const cfg = config({
      headers: new AxiosHeaders({
        Connection: 'close',
        'Keep-Alive': 'timeout=5',
        'Transfer-Encoding': 'chunked',
        Upgrade: 'h2c',
        'X-Kept': 'yes',
      }),
    });
    const headers = headerMap(undiciHeaders(cfg));
    expect(Object.keys(headers).sort()).toEqual(['accept-encoding', 'user-agent', 'x-kept']);
  });

  it('stringifies numbers and keeps a repeated header as an array', () => {
    const cfg = config({
      headers: new AxiosHeaders({ 'X-Count': 3, 'X-Many': ['a', 'b'] }),
    });
    const headers = headerMap(undiciHeaders(cfg));
    expect(headers['x-count']).toBe('3');
    expect(headers['x-many']).toEqual(['a', 'b']);
  });

  it('turns auth into Basic credentials, overriding an Authorization header', () => {
    const basic = `Basic ${Buffer.from('ann:s3cret').toString('base64')}`;
    const plain = headerMap(
      undiciHeaders(config({ auth: { username: 'ann', password: 's3cret' } })),
    );
    expect(plain.authorization).toBe(basic);
    const overridden = undiciHeaders(
      config({
        auth: { username: 'ann', password: 's3cret' },
        headers: new AxiosHeaders({ Authorization: 'Bearer t' }),
      }),
    );
    expect(overridden.filter((v) => String(v).toLowerCase() === 'authorization')).toHaveLength(1);
    expect(headerMap(overridden).authorization).toBe(basic);
  });

  it('sends no credentials when the caller set Authorization to false', () => {
    const cfg = config({
      auth: { username: 'ann', password: 's3cret' },
      headers: new AxiosHeaders({ Authorization: false }),
    });
    expect(headerMap(undiciHeaders(cfg))).not.toHaveProperty('authorization');
  });
});

describe('undici request: body', () => {
  const cfg = config();

  it('passes nothing for no data, strings and bytes as they are', () => {
    expect(toRequestBody(undefined, cfg)).toBeUndefined();
    expect(toRequestBody(null, cfg)).toBeUndefined();
    expect(toRequestBody('{"a":1}', cfg)).toBe('{"a":1}');
    const buffer = Buffer.from('x');
    expect(toRequestBody(buffer, cfg)).toBe(buffer);
  });

  it('turns an ArrayBuffer and a typed-array view into Buffers of the same bytes', () => {
    // Made with this realm's ArrayBuffer: Jest's typed arrays come from the outer realm.
    const raw = new ArrayBuffer(4);
    new DataView(raw).setUint32(0, 0x01020304);
    const whole = toRequestBody(raw, cfg) as Buffer;
    expect(Buffer.isBuffer(whole)).toBe(true);
    expect([...whole]).toEqual([1, 2, 3, 4]);
    const view = new DataView(raw, 1, 2);
    expect([...(toRequestBody(view, cfg) as Buffer)]).toEqual([2, 3]);
  });

  it('passes a stream through and turns a Blob into one', async () => {
    const stream = Readable.from(['a']);
    expect(toRequestBody(stream, cfg)).toBe(stream);
    const fromBlob = toRequestBody(new Blob(['blob body']), cfg) as Readable;
    expect(fromBlob).toBeInstanceOf(Readable);
    const chunks: Buffer[] = [];
    for await (const chunk of fromBlob) chunks.push(Buffer.from(chunk as Uint8Array));
    expect(Buffer.concat(chunks).toString()).toBe('blob body');
  });

  it('rejects anything else with ERR_BAD_REQUEST', () => {
    let error: unknown;
    try {
      toRequestBody({ not: 'serialized' }, cfg);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AxiosError);
    expect((error as AxiosError).code).toBe('ERR_BAD_REQUEST');
  });
});

describe('undici request: dispatch options', () => {
  it('maps origin, path with query, method, headers, body and redirects', () => {
    const attempt = attemptFor(
      'https://api.test:8443/v1/items?x=1',
      'PUT',
      config({ data: 'payload', maxRedirects: 3 }),
    );
    const request = requestInfo(attempt);
    expect(request).toEqual({
      method: 'PUT',
      protocol: 'https:',
      host: 'api.test:8443',
      path: '/v1/items?x=1',
      responseURL: 'https://api.test:8443/v1/items?x=1',
    });
    const exchange: UndiciExchange = {
      attempt,
      request,
      headers: ['X-A', '1'],
      release: () => undefined,
      keepAliveHint: () => undefined,
    };
    expect(undiciRequestOptions(exchange)).toEqual({
      origin: 'https://api.test:8443',
      path: '/v1/items?x=1',
      method: 'PUT',
      headers: ['X-A', '1'],
      body: 'payload',
      maxRedirections: 3,
      throwOnMaxRedirect: true,
    });
  });

  it("follows axios's default of 21 redirects when the config sets none", () => {
    const attempt = attemptFor('http://a.test/', 'GET');
    const exchange: UndiciExchange = {
      attempt,
      request: requestInfo(attempt),
      headers: [],
      release: () => undefined,
      keepAliveHint: () => undefined,
    };
    expect(undiciRequestOptions(exchange)).toMatchObject({ maxRedirections: 21 });
  });
});
