import type { AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { AxiosError, AxiosHeaders } from 'axios';

import { settle, toAxiosError, totalTimeoutError } from './axios-errors.js';

const config = (overrides: Partial<InternalAxiosRequestConfig> = {}): InternalAxiosRequestConfig =>
  ({ headers: new AxiosHeaders(), ...overrides }) as InternalAxiosRequestConfig;

const withCode = (message: string, code?: string) =>
  Object.assign(new Error(message), code === undefined ? {} : { code });

describe('toAxiosError', () => {
  it.each([
    ['UND_ERR_SOCKET', 'ECONNRESET'],
    ['UND_ERR_INVALID_ARG', 'ERR_BAD_OPTION_VALUE'],
    ['UND_ERR_NOT_SUPPORTED', 'ERR_NOT_SUPPORT'],
    ['UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'ERR_BAD_REQUEST'],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'ERR_BAD_RESPONSE'],
    ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT'],
    ['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'],
    ['ECONNREFUSED', 'ECONNREFUSED'],
  ])('labels %s as %s and keeps the original as cause', (raw, code) => {
    const cfg = config();
    const request = { path: '/x' };
    const original = withCode('boom', raw);
    const error = toAxiosError(original, cfg, request);
    expect(error).toBeInstanceOf(AxiosError);
    expect(error.code).toBe(code);
    expect(error.message).toBe('boom');
    expect(error.cause).toBe(original);
    expect(error.config).toBe(cfg);
    expect(error.request).toBe(request);
  });

  it('calls a failure without a code ERR_NETWORK', () => {
    expect(toAxiosError(withCode('other side closed'), config(), {}).code).toBe('ERR_NETWORK');
  });

  it.each(['max redirects', 'Redirect loop detected. Cannot redirect to http://a.test/.'])(
    'calls undici redirect failure %j ERR_FR_TOO_MANY_REDIRECTS',
    (message) => {
      expect(toAxiosError(withCode(message, 'UND_ERR_x'), config(), {}).code).toBe(
        'ERR_FR_TOO_MANY_REDIRECTS',
      );
    },
  );

  it('returns an AxiosError as it is', () => {
    const error = new AxiosError('already', 'ERR_CANCELED');
    expect(toAxiosError(error, config(), {})).toBe(error);
  });

  it('wraps a thrown non-error', () => {
    const error = toAxiosError('just a string', config(), {});
    expect(error.message).toBe('just a string');
    expect(error.code).toBe('ERR_NETWORK');
  });
});

describe('settle', () => {
  const response = (status: number, validateStatus?: ((s: number) => boolean) | null) =>
    ({
      status,
      statusText: '',
      headers: new AxiosHeaders(),
      config: config({ validateStatus }),
      request: {},
      data: undefined,
    }) as AxiosResponse;

  it('resolves an accepted status and any status without validateStatus', () => {
    const ok = response(200, (s) => s < 300);
    expect(settle(ok)).toBe(ok);
    expect(settle(response(503, null)).status).toBe(503);
  });

  it.each([
    [404, 'ERR_BAD_REQUEST'],
    [503, 'ERR_BAD_RESPONSE'],
  ])('rejects %i with %s', (status, code) => {
    const rejected = response(status, (s) => s < 300);
    let error: AxiosError | undefined;
    try {
      settle(rejected);
    } catch (e) {
      error = e as AxiosError;
    }
    expect(error?.code).toBe(code);
    expect(error?.response).toBe(rejected);
  });
});

describe('totalTimeoutError', () => {
  it("uses axios's wording and codes", () => {
    expect(totalTimeoutError(config({ timeout: 250 }))).toMatchObject({
      message: 'timeout of 250ms exceeded',
      code: 'ECONNABORTED',
    });
    expect(
      totalTimeoutError(config({ timeout: 250, transitional: { clarifyTimeoutError: true } })),
    ).toMatchObject({ code: 'ETIMEDOUT' });
    expect(totalTimeoutError(config({ timeoutErrorMessage: 'too slow' })).message).toBe('too slow');
  });
});
