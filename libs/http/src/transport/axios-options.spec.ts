import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';

import { AxiosError } from 'axios';

import { parseHttpPoolConfig } from '../config/http-pool.config.js';
import { HTTP_POOL_FIELDS } from '../config/http-pool.fields.js';
import { ERR_POOL_UNSUPPORTED_OPTION } from '../http-pool.constants.js';
import {
  AXIOS_OPTIONS_AT_CLIENT,
  REFUSED_AXIOS_OPTIONS,
  refusedOptionMessage,
  refusedOptionsOf,
  refuseOversizedBody,
  requestOptionsCheck,
} from './axios-options.js';

const axiosTypes = readFileSync(
  new URL('../../../../node_modules/axios/index.d.ts', import.meta.url),
  'utf8',
);
const docs = readFileSync(new URL('../../../../docs/http.md', import.meta.url), 'utf8');

/** Every key of axios's `AxiosRequestConfig`, read from the installed typings. */
function axiosRequestOptions(): string[] {
  const start = axiosTypes.indexOf('export interface AxiosRequestConfig<');
  const body = axiosTypes.slice(start, axiosTypes.indexOf('\n}\n', start));
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1] ?? '');
}

/** The option names in the first column of the "axios options" table of docs/http.md. */
function documentedOptions(): string[] {
  const section = docs.slice(docs.indexOf('## axios options'));
  const table = section.slice(0, section.indexOf('\n## ', 3));
  return [...table.matchAll(/^\| ([^|]+) \|/gm)]
    .flatMap((m) => [...(m[1] ?? '').matchAll(/`(\w+)`/g)].map((n) => n[1] ?? ''))
    .filter((name) => name !== '');
}

describe('axios request options', () => {
  it('knows every option of the installed axios: a client option, honoured, or refused', () => {
    const options = axiosRequestOptions();
    expect(options.length).toBeGreaterThan(40);
    const known = new Set([
      ...Object.keys(HTTP_POOL_FIELDS),
      ...AXIOS_OPTIONS_AT_CLIENT.map((o) => o.option),
    ]);
    expect(options.filter((option) => !known.has(option))).toEqual([]);
  });

  it('lists every option in the docs/http.md table', () => {
    const documented = new Set(documentedOptions());
    expect(axiosRequestOptions().filter((option) => !documented.has(option))).toEqual([]);
  });

  it('refuses agents, custom transports and HTTP/2 options on both transports', () => {
    const config = {
      httpAgent: {},
      httpsAgent: {},
      transport: {},
      fetchOptions: {},
      httpVersion: 2 as const,
      http2Options: {},
    };
    const all = Object.keys(config);
    expect(refusedOptionsOf(config, 'undici')).toEqual(all);
    expect(refusedOptionsOf(config, 'http')).toEqual(all);
  });

  it("refuses Node-agent features on undici only: the http transport's stock adapter has them", () => {
    const config = {
      socketPath: '/run/x.sock',
      lookup: () => undefined,
      family: 4 as const,
      beforeRedirect: () => undefined,
      sensitiveHeaders: ['x-key'],
      maxRate: 100,
      onUploadProgress: () => undefined,
      onDownloadProgress: () => undefined,
      insecureHTTPParser: true,
    };
    expect(refusedOptionsOf(config, 'undici')).toEqual(Object.keys(config));
    expect(refusedOptionsOf(config, 'http')).toEqual([]);
  });

  it('accepts unset values and the ones that mean the default', () => {
    const config = {
      socketPath: null,
      httpAgent: undefined,
      httpVersion: 1 as const,
      insecureHTTPParser: false,
      maxContentLength: 10,
      auth: { username: 'a', password: 'b' },
      decompress: false,
    };
    expect(refusedOptionsOf(config, 'undici')).toEqual([]);
  });

  it("each client's request check refuses exactly what refusedOptionsOf lists, first one first", () => {
    const url = new URL('http://x/');
    const cases: Array<Record<string, unknown>> = [
      { headers: {} },
      { socketPath: null, httpAgent: undefined, httpVersion: 1, insecureHTTPParser: false },
      { insecureHTTPParser: true },
      { httpVersion: 2, maxRate: 1 },
      { family: 4, onDownloadProgress: () => undefined },
      { lookup: () => undefined, fetchOptions: {} },
    ];
    for (const kind of ['undici', 'http'] as const) {
      const check = requestOptionsCheck('default', kind);
      for (const config of cases) {
        const [first] = refusedOptionsOf(config, kind);
        if (first === undefined) {
          expect(() => check(config, url)).not.toThrow();
        } else {
          expect(() => check(config, url)).toThrow(`The axios option ${first} is not supported`);
        }
      }
    }
  });

  it('names the option, the client, the transport and what to use instead', () => {
    expect(refusedOptionMessage('httpsAgent', 'github', 'undici')).toBe(
      `The axios option httpsAgent is not supported by HTTP client "github" (undici transport): ${REFUSED_AXIOS_OPTIONS.httpsAgent?.instead}.`,
    );
    expect(REFUSED_AXIOS_OPTIONS.httpsAgent?.instead).toContain('HTTP_TLS_*');
    expect(REFUSED_AXIOS_OPTIONS.socketPath?.instead).toContain("transport: 'http'");
    expect(REFUSED_AXIOS_OPTIONS.lookup?.instead).toContain('dnsCacheTtlMs');
  });

  it('throws an AxiosError with ERR_POOL_UNSUPPORTED_OPTION for the first refused option', () => {
    const check = requestOptionsCheck('default', 'undici');
    let thrown: unknown;
    try {
      check({ headers: {}, maxRate: 1, family: 4 }, new URL('http://x/'));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AxiosError);
    expect(thrown).toMatchObject({ code: ERR_POOL_UNSUPPORTED_OPTION });
    expect((thrown as Error).message).toContain('The axios option family is not supported');
    expect(() => check({ headers: {}, timeout: 5 }, new URL('http://x/'))).not.toThrow();
  });

  it('refuses URL schemes undici cannot send to; the http transport decodes data: URLs', () => {
    const url = new URL('data:text/plain;base64,aGk=');
    expect(() => requestOptionsCheck('default', 'undici')({}, url)).toThrow(
      /The URL scheme data: is not supported .*transport: 'http'/,
    );
    expect(() => requestOptionsCheck('default', 'http')({}, url)).not.toThrow();
    expect(() => requestOptionsCheck('default', 'undici')({}, new URL('ftp://x/'))).toThrow(
      'call an http:// or https:// URL',
    );
    expect(() => requestOptionsCheck('default', 'undici')({}, new URL('https://x/'))).not.toThrow();
  });

  it('checks maxBodyLength on bodies of known length, in bytes', () => {
    const over = (data: unknown, maxBodyLength: number) => () =>
      refuseOversizedBody({ data, maxBodyLength });
    expect(over('é'.repeat(3), 5)).toThrow('Request body larger than maxBodyLength limit');
    expect(over('é'.repeat(3), 6)).not.toThrow();
    expect(over(Buffer.alloc(11), 10)).toThrow(AxiosError);
    expect(over(new Uint16Array(6), 11)).toThrow(AxiosError);
    expect(over(new Blob(['12345']), 4)).toThrow(AxiosError);
    expect(over(Buffer.alloc(11), -1)).not.toThrow();
    // A stream's length is only known as it is sent: the transport counts it.
    expect(over(Readable.from(['x'.repeat(20)]), 10)).not.toThrow();
  });

  it('explains each axios option given to the module', () => {
    const of = (option: string) => AXIOS_OPTIONS_AT_CLIENT.find((o) => o.option === option);
    expect(of('timeout')?.explanation).toContain('timeoutTotalMs');
    expect(of('httpsAgent')?.explanation).toContain('tlsCaFile');
    expect(of('validateStatus')?.explanation).toContain('per request');
    expect(of('adapter')?.explanation).toContain('HTTP_TRANSPORT');
    // Options the module has under the same name stay client options.
    expect(parseHttpPoolConfig({}, { transport: 'http', proxy: false }).transport).toBe('http');
    expect(() => parseHttpPoolConfig({}, { maxRate: 100 })).toThrow(
      /options\.maxRate.*an axios request option the pooled transport refuses/s,
    );
  });
});
