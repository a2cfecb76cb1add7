import { Readable } from 'node:stream';
import zlib from 'node:zlib';

import type { InternalAxiosRequestConfig } from 'axios';
import { AxiosError, AxiosHeaders } from 'axios';

import type { UndiciExchange, UndiciRequestInfo } from './undici-transport.request.js';
import {
  bufferedData,
  createDecoder,
  declaresTooLong,
  hasBody,
  limitStream,
  pipeDecoder,
  readBody,
  startResponse,
} from './undici-transport.response.js';

const config = (overrides: Partial<InternalAxiosRequestConfig> = {}): InternalAxiosRequestConfig =>
  ({ headers: new AxiosHeaders(), ...overrides }) as InternalAxiosRequestConfig;

const request = (): UndiciRequestInfo => ({
  method: 'GET',
  protocol: 'http:',
  host: 'a.test',
  path: '/x',
  responseURL: 'http://a.test/x',
});

function exchange(method: string, cfg = config()) {
  const hints: Array<string | string[]> = [];
  const value: UndiciExchange = {
    attempt: {
      config: cfg,
      url: new URL('http://a.test/x'),
      origin: 'http://a.test',
      method,
      signal: new AbortController().signal,
      aborted: false,
      reason: undefined,
      onAbort: () => undefined,
    },
    request: request(),
    headers: [],
    release: () => undefined,
    keepAliveHint: (header) => hints.push(header),
  };
  return { exchange: value, hints };
}

/** Decodes `encoded` through the decoder for `encoding`, as the transport does. */
const decodeAll = (encoding: string, encoded: Buffer, cfg = config()) =>
  readBody(
    pipeDecoder(Readable.from([encoded]), createDecoder(encoding) as zlib.Gunzip),
    cfg,
    -1,
    request(),
  );

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as AxiosError,
  );

describe('undici response: text and bytes', () => {
  it('hands out a Buffer of every chunk for arraybuffer', () => {
    const data = bufferedData(
      [Buffer.from('ab'), Buffer.from('c')],
      3,
      config({ responseType: 'arraybuffer' }),
    );
    expect(Buffer.isBuffer(data)).toBe(true);
    expect((data as Buffer).toString()).toBe('abc');
  });

  it('decodes UTF-8 across chunk borders and drops a byte order mark', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('héllo ✓')]);
    // Split inside the two-byte é.
    const chunks = [bytes.subarray(0, 5), bytes.subarray(5)];
    expect(bufferedData(chunks, bytes.length, config())).toBe('héllo ✓');
    expect(bufferedData(chunks, bytes.length, config({ responseType: 'json' }))).toBe('héllo ✓');
  });

  it('decodes with responseEncoding and keeps a BOM-looking start then', () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    expect(bufferedData([latin1], 4, config({ responseEncoding: 'latin1' }))).toBe('café');
    const hex = bufferedData(
      [Buffer.from([0xef, 0xbb, 0xbf])],
      3,
      config({ responseEncoding: 'hex' }),
    );
    expect(hex).toBe('efbbbf');
  });

  it('gives an empty string for an empty body', () => {
    expect(bufferedData([], 0, config())).toBe('');
  });
});

describe('undici response: decompression', () => {
  const text = 'compressed body '.repeat(50);

  it.each([
    ['gzip', zlib.gzipSync],
    ['x-gzip', zlib.gzipSync],
    [' GZIP ', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['br', zlib.brotliCompressSync],
  ])('decodes %s', async (encoding, compress) => {
    expect(await decodeAll(encoding, compress(Buffer.from(text)))).toBe(text);
  });

  it('passes unknown encodings through (no decoder)', () => {
    expect(createDecoder('identity')).toBeUndefined();
    expect(createDecoder('zstd')).toBeUndefined();
  });

  it('yields what arrived of a truncated gzip body instead of failing', async () => {
    const whole = zlib.gzipSync(Buffer.from(text));
    const cut = whole.subarray(0, whole.length - 12);
    const data = (await decodeAll('gzip', cut)) as string;
    expect(data.length).toBeGreaterThan(0);
    expect(text.startsWith(data)).toBe(true);
  });

  it('fails with ERR_BAD_RESPONSE once the decoded body passes maxContentLength', async () => {
    const body = pipeDecoder(
      Readable.from([zlib.gzipSync(Buffer.alloc(64 * 1024, 'a'))]),
      createDecoder('gzip') as zlib.Gunzip,
    );
    const error = await failure(readBody(body, config(), 1000, request()));
    expect(error).toBeInstanceOf(AxiosError);
    expect(error.code).toBe('ERR_BAD_RESPONSE');
    expect(error.message).toBe('maxContentLength size of 1000 exceeded');
    expect(body.destroyed).toBe(true);
  });
});

describe('undici response: the response head', () => {
  it('builds the axios response and reports the Keep-Alive hint', () => {
    const { exchange: ex, hints } = exchange('GET');
    const headers = { 'content-type': 'text/plain', 'keep-alive': 'timeout=5' };
    const { response, decode } = startResponse(ex, 200, 'OK', headers, undefined);
    expect(response.status).toBe(200);
    expect(response.statusText).toBe('OK');
    expect(response.headers['content-type']).toBe('text/plain');
    expect(response.config).toBe(ex.attempt.config);
    expect(response.request).toBe(ex.request);
    expect(decode).toBeUndefined();
    expect(hints).toEqual(['timeout=5']);
  });

  it('points responseURL at the last redirect target', () => {
    const { exchange: ex } = exchange('GET');
    const history = [new URL('http://a.test/x'), new URL('http://b.test/final')];
    startResponse(ex, 200, undefined, {}, { history });
    expect(ex.request.responseURL).toBe('http://b.test/final');
  });

  it('picks a decoder and drops content-encoding and content-length', () => {
    const { exchange: ex } = exchange('GET');
    const headers = { 'content-encoding': 'gzip', 'content-length': '20' };
    const { response, decode } = startResponse(ex, 500, '', headers, undefined);
    expect(decode).toBeDefined();
    decode?.destroy();
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.headers['content-length']).toBeUndefined();
  });

  it.each([
    ['GET', 200, { decompress: false }],
    ['HEAD', 200, {}],
    ['GET', 204, {}],
    ['GET', 304, {}],
  ])('keeps the body encoded for %s %i %j', (method, status, overrides) => {
    const { exchange: ex } = exchange(method, config(overrides));
    const { response, decode } = startResponse(
      ex,
      status,
      '',
      { 'content-encoding': 'gzip' },
      undefined,
    );
    expect(decode).toBeUndefined();
    expect(response.headers['content-encoding']).toBe('gzip');
  });

  it('knows which responses carry no body', () => {
    expect(hasBody('GET', 200)).toBe(true);
    expect(hasBody('HEAD', 200)).toBe(false);
    expect(hasBody('GET', 204)).toBe(false);
    expect(hasBody('POST', 304)).toBe(false);
  });

  it('compares a declared Content-Length with maxContentLength', () => {
    expect(declaresTooLong({ 'content-length': '11' }, 10)).toBe(true);
    expect(declaresTooLong({ 'content-length': '10' }, 10)).toBe(false);
    expect(declaresTooLong({ 'content-length': '11' }, -1)).toBe(false);
    expect(declaresTooLong({}, 10)).toBe(false);
  });
});

describe('undici response: limiting a stream', () => {
  it('passes a body within the limit through unchanged', async () => {
    const source = Readable.from([Buffer.from('12345'), Buffer.from('678')]);
    const chunks: Buffer[] = [];
    for await (const chunk of source.pipe(limitStream(8, source))) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('12345678');
  });

  it('fails past the limit and destroys the source', async () => {
    const source = Readable.from([Buffer.from('12345'), Buffer.from('6789')]);
    const limited = source.pipe(limitStream(8, source));
    const error = await new Promise<AxiosError>((resolve) => {
      limited.on('error', (e) => resolve(e as AxiosError));
      limited.resume();
    });
    expect(error.code).toBe('ERR_BAD_RESPONSE');
    expect(error.message).toBe('maxContentLength size of 8 exceeded');
    expect(source.destroyed).toBe(true);
  });

  it('fails when its source fails', async () => {
    const source = new Readable({ read() {} });
    const limited = source.pipe(limitStream(8, source));
    const failed = new Promise<Error>((resolve) => limited.on('error', resolve));
    source.destroy(new Error('socket hang up'));
    expect((await failed).message).toBe('socket hang up');
  });
});
