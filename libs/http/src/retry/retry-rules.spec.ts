import {
  hasIdempotencyKey,
  isRequestRetryable,
  parseRetryAfterMs,
  retryReasonForError,
  retryReasonForStatus,
} from './retry-rules.js';

describe('isRequestRetryable', () => {
  it.each(['GET', 'head', 'OPTIONS', 'PUT', 'DELETE'])('retries idempotent %s', (method) => {
    expect(isRequestRetryable({ method }, false)).toBe(true);
  });

  it.each(['POST', 'PATCH'])('never retries %s without an opt-in', (method) => {
    expect(isRequestRetryable({ method }, false)).toBe(false);
    expect(isRequestRetryable({ method, headers: { 'content-type': 'x' } }, false)).toBe(false);
  });

  it('retries POST carrying an Idempotency-Key (any case)', () => {
    expect(
      isRequestRetryable({ method: 'POST', headers: { 'Idempotency-Key': 'k1' } }, false),
    ).toBe(true);
    expect(
      isRequestRetryable({ method: 'PATCH', headers: { 'idempotency-key': 'k' } }, false),
    ).toBe(true);
    expect(hasIdempotencyKey({ 'Idempotency-Key': '' })).toBe(false);
  });

  it('retries POST when the client opted in, but never a streamed body', () => {
    expect(isRequestRetryable({ method: 'POST' }, true)).toBe(true);
    expect(isRequestRetryable({ method: 'GET', bodyIsStream: true }, true)).toBe(false);
  });
});

describe('retryReasonFor…', () => {
  it('maps 429/502/503/504 and nothing else', () => {
    expect([429, 502, 503, 504].map(retryReasonForStatus)).toEqual([
      'status_429',
      'status_502',
      'status_503',
      'status_504',
    ]);
    expect([200, 400, 404, 500, 501].map(retryReasonForStatus)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('classifies network errors, also through `cause`', () => {
    expect(retryReasonForError({ code: 'ECONNRESET' })).toBe('connection_reset');
    expect(retryReasonForError({ code: 'UND_ERR_SOCKET' })).toBe('connection_reset');
    expect(retryReasonForError({ code: 'ECONNREFUSED' })).toBe('connection_refused');
    expect(retryReasonForError({ code: 'UND_ERR_CONNECT_TIMEOUT' })).toBe('connect_timeout');
    expect(retryReasonForError({ code: 'ERR_X', cause: { code: 'EPIPE' } })).toBe(
      'connection_reset',
    );
  });

  it('does not retry read timeouts, the total timeout, cancels or bad requests', () => {
    for (const code of [
      'UND_ERR_HEADERS_TIMEOUT',
      'UND_ERR_BODY_TIMEOUT',
      'ECONNABORTED',
      'ERR_CANCELED',
      'ERR_BAD_REQUEST',
    ]) {
      expect(retryReasonForError({ code })).toBeUndefined();
    }
    expect(retryReasonForError(new Error('plain'))).toBeUndefined();
    expect(retryReasonForError(null)).toBeUndefined();
  });

  it('uses the status of an AxiosError response before its code', () => {
    expect(retryReasonForError({ code: 'ERR_BAD_RESPONSE', response: { status: 503 } })).toBe(
      'status_503',
    );
    expect(retryReasonForError({ code: 'ERR_BAD_RESPONSE', response: { status: 500 } })).toBe(
      undefined,
    );
    expect(retryReasonForError({ code: 'ECONNRESET', response: { status: 200 } })).toBe(
      'connection_reset',
    );
  });

  it('retries a refused CONNECT by the status the proxy answered, never a 407', () => {
    expect(retryReasonForError({ code: 'ERR_PROXY_TUNNEL', status: 502 })).toBe('status_502');
    expect(retryReasonForError({ code: 'ERR_PROXY_TUNNEL', status: 403 })).toBeUndefined();
    expect(retryReasonForError({ code: 'ERR_PROXY_AUTH', status: 407 })).toBeUndefined();
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfterMs('1', now)).toBe(1000);
    expect(parseRetryAfterMs(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfterMs(['2', '3'], now)).toBe(2000);
  });

  it('reads an HTTP-date, clamping the past to 0', () => {
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });

  it('ignores missing and malformed values', () => {
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
    expect(parseRetryAfterMs('', now)).toBeUndefined();
    expect(parseRetryAfterMs('-1', now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
  });
});
