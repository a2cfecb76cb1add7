import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';

import {
  ERR_POOL_UNSUPPORTED_OPTION,
  getHttpPoolClientToken,
  type HttpPoolClient,
  HttpPoolModule,
} from '@nest-pools/http';
import type { HttpService } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import axios, { AxiosError, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { firstValueFrom } from 'rxjs';

import { type HttpHarness, startHttpHarness } from '../support/http.js';

const LATIN1 = Buffer.from('caf\xe9', 'latin1');

async function failure(request: Promise<unknown>): Promise<AxiosError> {
  try {
    await request;
  } catch (error) {
    if (error instanceof AxiosError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

/**
 * Every axios request option is honoured by the pooled transports or refused with
 * `ERR_POOL_UNSUPPORTED_OPTION`, naming the option and what to use instead, before anything is
 * sent; axios options given to the module fail startup. What reached the upstream is read from
 * its own request records and counts.
 */
describe('axios request options on HttpPoolModule', () => {
  let h: HttpHarness;
  let undici: HttpService;
  let node: HttpService;

  beforeAll(async () => {
    h = await startHttpHarness({
      upstream: {
        routes: {
          '/gzip': { body: 'compressed text', gzip: true },
          '/latin1': { body: LATIN1, headers: { 'content-type': 'text/plain; charset=latin1' } },
          '/big': { bodySize: 4096 },
          '/slow': { latencyMs: 400 },
          '/missing': { status: 404 },
          '/unavailable': { status: 503 },
          '/json': { body: '{"n":1}', headers: { 'content-type': 'application/json' } },
          '/moved': { status: 302, headers: { location: '/landed' } },
        },
      },
      pools: (upstream) => [
        { baseURL: upstream.url, retries: 2, retryBackoffMs: 0 },
        { name: 'node', baseURL: upstream.url, transport: 'http', retries: 2, retryBackoffMs: 0 },
      ],
    });
    undici = h.http();
    node = h.http('node');
  });
  afterEach(() => h.upstream.resetCounters());
  afterAll(() => h.close());

  const clients = () =>
    [
      ['undici', undici],
      ['http', node],
    ] as const;

  const get = <T = unknown>(http: HttpService, url: string, config?: AxiosRequestConfig) =>
    firstValueFrom(http.get<T>(url, config));

  describe.each(['undici', 'http'] as const)('honoured on the %s transport', (kind) => {
    const http = () => (kind === 'undici' ? undici : node);

    it('auth becomes Basic credentials', async () => {
      await get(http(), '/auth', { auth: { username: 'bot', password: 'pw' } });
      expect(h.upstream.lastRequest?.headers.authorization).toBe(
        `Basic ${Buffer.from('bot:pw').toString('base64')}`,
      );
    });

    it('params, paramsSerializer and allowAbsoluteUrls build the URL', async () => {
      await get(http(), '/q', { params: { a: 1, b: 'x y' } });
      expect(h.upstream.lastRequest?.url).toBe('/q?a=1&b=x+y');
      await get(http(), '/q', { params: { a: 1 }, paramsSerializer: () => 'custom=1' });
      expect(h.upstream.lastRequest?.url).toBe('/q?custom=1');
      // An absolute URL is taken as a path under baseURL when absolute URLs are not allowed.
      await get(http(), `${h.upstream.url}/abs`, { allowAbsoluteUrls: false });
      expect(h.upstream.lastRequest?.url).toMatch(/^\/http:\/\/.*\/abs$/);
    });

    it('transformRequest and transformResponse run', async () => {
      const res = await firstValueFrom(
        http().post<string>(
          '/echo',
          { n: 1 },
          {
            transformRequest: [() => 'sent-by-transform'],
            transformResponse: [(data: unknown) => `seen:${typeof data}`],
          },
        ),
      );
      expect(h.upstream.lastRequest?.body.toString()).toBe('sent-by-transform');
      expect(res.data).toBe('seen:string');
    });

    it('decompress: false hands out the compressed bytes and their headers', async () => {
      const plain = await get<string>(http(), '/gzip');
      expect(plain.data).toBe('compressed text');
      const raw = await get<Buffer>(http(), '/gzip', {
        decompress: false,
        responseType: 'arraybuffer',
      });
      expect(raw.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(raw.data).toString()).toBe('compressed text');
      // undici asks for no encoding it will not decode; axios's http adapter asks regardless.
      if (kind === 'undici') {
        expect(h.upstream.lastRequest?.headers['accept-encoding']).toBeUndefined();
      }
    });

    it('responseEncoding decodes the text', async () => {
      const res = await get<string>(http(), '/latin1', { responseEncoding: 'latin1' });
      expect(res.data).toBe('café');
    });

    it('maxContentLength fails a longer body with ERR_BAD_RESPONSE, not retried', async () => {
      const error = await failure(get(http(), '/big', { maxContentLength: 1000 }));
      expect(error.code).toBe(AxiosError.ERR_BAD_RESPONSE);
      expect(error.message).toBe('maxContentLength size of 1000 exceeded');
      expect(h.upstream.requestsTo('/big')).toBe(1);
    });

    it('maxBodyLength refuses a longer body before sending it', async () => {
      const error = await failure(
        firstValueFrom(http().post('/upload', 'x'.repeat(101), { maxBodyLength: 100 })),
      );
      expect(error.code).toBe(AxiosError.ERR_BAD_REQUEST);
      expect(error.message).toBe('Request body larger than maxBodyLength limit');
      expect(h.upstream.requestsTo('/upload')).toBe(0);
      await firstValueFrom(http().post('/upload', 'x'.repeat(100), { maxBodyLength: 100 }));
      expect(h.upstream.requestsTo('/upload')).toBe(1);
    });

    it('timeoutErrorMessage and transitional.clarifyTimeoutError shape the total timeout', async () => {
      const error = await failure(
        get(http(), '/slow', {
          timeout: 50,
          timeoutErrorMessage: 'upstream too slow',
          transitional: { clarifyTimeoutError: true },
        }),
      );
      expect(error.message).toBe('upstream too slow');
      expect(error.code).toBe(AxiosError.ETIMEDOUT);
    });

    it('validateStatus and maxRedirects decide what is a response', async () => {
      const missing = await get(http(), '/missing', { validateStatus: () => true });
      expect(missing.status).toBe(404);
      const moved = await get(http(), '/moved', { maxRedirects: 0, validateStatus: null });
      expect(moved.status).toBe(302);
      expect(h.upstream.requestsTo('/landed')).toBe(0);
    });

    it('formSerializer and formDataHeaderPolicy shape a multipart body, not retried once streamed', async () => {
      const form = { a: 1, b: [1, 2] };
      await firstValueFrom(
        http().put('/form', form, {
          headers: { 'content-type': 'multipart/form-data' },
          formSerializer: { indexes: true },
        }),
      );
      const sent = h.upstream.lastRequest;
      expect(sent?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=-+\w+$/);
      expect(sent?.body.toString()).toContain('name="b[0]"');
      await firstValueFrom(
        http().put('/form', form, {
          headers: { 'content-type': 'multipart/form-data' },
          formDataHeaderPolicy: 'content-only',
        }),
      );
      expect(h.upstream.lastRequest?.body.toString()).toContain('name="b[]"');
      // A streamed PUT body is consumed by its attempt: a 503 is final.
      const error = await failure(
        firstValueFrom(
          http().put('/unavailable', form, { headers: { 'content-type': 'multipart/form-data' } }),
        ),
      );
      expect(error.response?.status).toBe(503);
      expect(h.upstream.requestsTo('/unavailable')).toBe(1);
    });

    it('parseReviver revives the JSON response', async () => {
      const res = await get<{ n: number }>(http(), '/json', {
        parseReviver: (_key: string, value: unknown) =>
          typeof value === 'number' ? value * 2 : value,
      });
      expect(res.data).toEqual({ n: 2 });
    });

    it('redact hides config values in the error JSON', async () => {
      const error = await failure(
        get(http(), '/missing', { headers: { 'x-api-key': 'k-123' }, redact: ['x-api-key'] }),
      );
      expect(h.upstream.lastRequest?.headers['x-api-key']).toBe('k-123');
      expect(JSON.stringify(error.toJSON())).not.toContain('k-123');
    });

    it('signal and cancelToken cancel the request', async () => {
      const controller = new AbortController();
      const bySignal = failure(get(http(), '/slow', { signal: controller.signal }));
      controller.abort();
      expect((await bySignal).code).toBe(AxiosError.ERR_CANCELED);
      const source = axios.CancelToken.source();
      const byToken = failure(get(http(), '/slow', { cancelToken: source.token }));
      source.cancel('enough');
      expect((await byToken).code).toBe(AxiosError.ERR_CANCELED);
    });

    it('withCredentials and the xsrf options have no effect on Node', async () => {
      await get(http(), '/xsrf', {
        withCredentials: true,
        withXSRFToken: true,
        xsrfCookieName: 'XSRF',
        xsrfHeaderName: 'X-XSRF',
      });
      expect(h.upstream.lastRequest?.headers['x-xsrf']).toBeUndefined();
      expect(h.upstream.requestsTo('/xsrf')).toBe(1);
    });

    it('accepts the values that mean the default: httpVersion 1, insecureHTTPParser false, socketPath null', async () => {
      const res = await get(http(), '/defaults', {
        httpVersion: 1,
        insecureHTTPParser: false,
        socketPath: null,
      });
      expect(res.status).toBe(200);
    });
  });

  it('counts a streamed body against maxBodyLength on the undici transport', async () => {
    const body = Readable.from([Buffer.alloc(60), Buffer.alloc(60)]);
    const error = await failure(
      firstValueFrom(undici.post('/stream-up', body, { maxBodyLength: 100 })),
    );
    expect(error.code).toBe(AxiosError.ERR_BAD_REQUEST);
    expect(error.message).toBe('Request body larger than maxBodyLength limit');
    // The upstream never got a whole body: no request was recorded as complete.
    expect(h.upstream.requestsTo('/stream-up')).toBe(0);
  });

  const refusedOnUndici: Array<[keyof AxiosRequestConfig, unknown, string]> = [
    ['httpAgent', {}, 'limitPerHost'],
    ['httpsAgent', {}, 'tlsCaFile'],
    ['transport', {}, 'HTTP_TRANSPORT'],
    ['fetchOptions', {}, 'fetch adapter'],
    ['httpVersion', 2, 'allowH2'],
    ['http2Options', {}, 'HTTP_ALLOW_H2'],
    ['socketPath', '/tmp/x.sock', "transport: 'http'"],
    ['lookup', () => undefined, 'dnsCacheTtlMs'],
    ['family', 4, "transport: 'http'"],
    ['beforeRedirect', () => undefined, 'maxRedirects: 0'],
    ['sensitiveHeaders', ['x-key'], 'maxRedirects: 0'],
    ['maxRate', 1000, "transport: 'http'"],
    ['onUploadProgress', () => undefined, 'stream'],
    ['onDownloadProgress', () => undefined, "responseType: 'stream'"],
    ['insecureHTTPParser', true, 'lenient parser'],
  ];

  it.each(refusedOnUndici)(
    'refuses %s on the undici transport, naming what to use, before anything is sent',
    async (option, value, instead) => {
      const client = h.moduleRef.get<HttpPoolClient>(getHttpPoolClientToken());
      const error = await failure(get(undici, '/refused', { [option]: value }));
      expect(error.code).toBe(ERR_POOL_UNSUPPORTED_OPTION);
      expect(error.message).toContain(
        `The axios option ${option} is not supported by HTTP client "default" (undici transport): `,
      );
      expect(error.message).toContain(instead);
      expect(error.response).toBeUndefined();
      // Not sent, not retried (retries: 2), no slot left taken.
      expect(h.upstream.requestsTo('/refused')).toBe(0);
      expect(client.stats().acquired).toBe(0);
      expect(await h.retries('connection_refused')).toBe(0);
    },
  );

  it.each([
    ['httpAgent', {}],
    ['httpsAgent', {}],
    ['transport', {}],
    ['fetchOptions', {}],
    ['httpVersion', 2],
    ['http2Options', {}],
  ] as const)('refuses %s on the http transport too', async (option, value) => {
    const error = await failure(get(node, '/refused', { [option]: value }));
    expect(error.code).toBe(ERR_POOL_UNSUPPORTED_OPTION);
    expect(error.message).toContain(
      `The axios option ${option} is not supported by HTTP client "node" (http transport)`,
    );
    expect(h.upstream.requestsTo('/refused')).toBe(0);
  });

  it("refuses a data: URL on undici, which the http transport's axios adapter decodes", async () => {
    const url = 'data:text/plain;base64,aGVsbG8=';
    // No baseURL: a data: URL is not absolute to axios and would be taken as a path under it.
    const error = await failure(get(undici, url, { baseURL: '' }));
    expect(error.code).toBe(ERR_POOL_UNSUPPORTED_OPTION);
    expect(error.message).toContain('The URL scheme data: is not supported');
    expect(error.message).toContain("transport: 'http'");
    const decoded = await get<Buffer>(node, url, { baseURL: '' });
    expect(decoded.data.toString()).toBe('hello');
  });

  it('refuses a per-request adapter on both transports: it would bypass the pool', async () => {
    let called = 0;
    const adapter = (config: AxiosRequestConfig) => {
      called++;
      return Promise.resolve({ status: 200, data: '', headers: {}, config } as AxiosResponse);
    };
    for (const [, http] of clients()) {
      const error = await failure(get(http, '/refused', { adapter: adapter as never }));
      expect(error.code).toBe(ERR_POOL_UNSUPPORTED_OPTION);
      expect(error.message).toContain('The axios option adapter is not supported');
      expect(error.message).toContain('HTTP_TRANSPORT');
    }
    expect(called).toBe(0);
  });

  it('refuses options set on axiosRef.defaults at each request', async () => {
    const refs = undici as unknown as { axiosRef: { defaults: AxiosRequestConfig } };
    refs.axiosRef.defaults.maxRate = 100;
    try {
      const error = await failure(get(undici, '/refused'));
      expect(error.message).toContain('The axios option maxRate is not supported');
    } finally {
      delete refs.axiosRef.defaults.maxRate;
    }
    expect((await get(undici, '/refused')).status).toBe(200);
  });

  describe('honoured by the http transport, as the refusals say', () => {
    let server: Server;
    let socketPath: string;
    beforeAll(async () => {
      socketPath = `/tmp/nest-pools-axios-options-${process.pid}.sock`;
      server = createServer((req, res) => res.end(`unix ${req.url}`));
      server.listen(socketPath);
      await once(server, 'listening');
    });
    afterAll(async () => {
      // The client's keep-alive socket would hold close() until it idles out.
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    });

    it('socketPath reaches a Unix socket', async () => {
      const res = await get<string>(node, 'http://localhost/there', { socketPath });
      expect(res.data).toBe('unix /there');
    });

    it('allowedSocketPaths keeps socketPath to the paths it lists', async () => {
      const error = await failure(
        get(node, 'http://localhost/there', {
          socketPath,
          allowedSocketPaths: ['/run/other.sock'],
        }),
      );
      expect(error.message).toContain('is not permitted by allowedSocketPaths');
      const res = await get<string>(node, 'http://localhost/there', {
        socketPath,
        allowedSocketPaths: [socketPath],
      });
      expect(res.data).toBe('unix /there');
    });

    it('lookup resolves a name only it knows', async () => {
      const names: string[] = [];
      const lookup: LookupFunction = (hostname, _options, callback) => {
        names.push(hostname);
        (callback as (e: null, address: string, family: number) => void)(null, '127.0.0.1', 4);
      };
      const res = await get(node, `http://only-lookup.test:${h.upstream.port}/looked-up`, {
        lookup: lookup as never,
      });
      expect(res.status).toBe(200);
      expect(names).toContain('only-lookup.test');
      expect(h.upstream.requestsTo('/looked-up')).toBe(1);
    });
  });

  it.each([
    ['httpsAgent', 'tlsCaFile'],
    ['timeout', 'timeoutTotalMs'],
    ['validateStatus', 'per request'],
    ['socketPath', "transport: 'http'"],
  ])(
    'fails startup for the axios option %s given to the module, naming %s',
    async (option, hint) => {
      const error = await Test.createTestingModule({
        imports: [HttpPoolModule.forRoot({ [option]: {} })],
      })
        .compile()
        .then(
          async (moduleRef) => {
            await moduleRef.close();
            return undefined;
          },
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(Error);
      const { name, message } = error as Error;
      expect(name).toBe('ConfigValidationError');
      expect(message).toContain(`options.${option}`);
      expect(message).toContain('an axios request option');
      expect(message).toContain(hint);
    },
  );
});
