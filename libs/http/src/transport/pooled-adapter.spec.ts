import { Readable } from 'node:stream';

import { jest } from '@jest/globals';
import type { AxiosInstance, AxiosResponse } from 'axios';
import axios, { AxiosError, AxiosHeaders, isCancel } from 'axios';

import type { RetryReason } from '../retry/retry-rules.js';
import type { RequestObserver, RetrySettings } from './pooled-adapter.js';
import { createPooledAdapter, PooledAdapter, pooledAdapterOf } from './pooled-adapter.js';
import type { CancelHook } from './pooled-attempt.js';
import type { SendAttempt, TransportAttempt } from './transport.interface.js';

type Reply = (attempt: TransportAttempt) => Promise<AxiosResponse> | AxiosResponse;

const settings = (overrides: Partial<RetrySettings> = {}): RetrySettings => ({
  retries: 2,
  retryNonIdempotent: false,
  retryAfterMaxMs: 30_000,
  backoffMs: () => 0,
  ...overrides,
});

function reply(
  attempt: TransportAttempt,
  status: number,
  headers: Record<string, string> = {},
  data: unknown = 'ok',
): AxiosResponse {
  return {
    status,
    statusText: '',
    headers: new AxiosHeaders(headers),
    config: attempt.config,
    request: {},
    data,
  };
}

/** A failure as transports report it: an `AxiosError` with the attempt's config. */
function networkError(attempt: TransportAttempt, code: string): AxiosError {
  return new AxiosError(`socket ${code}`, code, attempt.config);
}

/** A fake transport answering from a script, one entry per attempt, recording every attempt. */
function scripted(...script: Reply[]) {
  const attempts: TransportAttempt[] = [];
  const send = async (attempt: TransportAttempt): Promise<AxiosResponse> => {
    attempts.push(attempt);
    const next = script[Math.min(attempts.length - 1, script.length - 1)] as Reply;
    return next(attempt);
  };
  return { attempts, send };
}

/** A transport whose attempt never ends unless it is aborted; `started` resolves on the call. */
function hanging() {
  let started!: (attempt: TransportAttempt) => void;
  const startedPromise = new Promise<TransportAttempt>((resolve) => (started = resolve));
  const send = (attempt: TransportAttempt): Promise<AxiosResponse> =>
    new Promise((_resolve, reject) => {
      attempt.onAbort(reject);
      started(attempt);
    });
  return { send, started: startedPromise };
}

function recorder() {
  const finished: Array<{ method: string; status: number | undefined; error: unknown }> = [];
  const retrying: Array<{ url: string; reason: RetryReason; delayMs: number }> = [];
  const observer: RequestObserver = {
    attemptFinished: (_url, _origin, method, status, _seconds, error) =>
      finished.push({ method, status, error }),
    retrying: (url, reason, delayMs) => retrying.push({ url: url.href, reason, delayMs }),
  };
  return { finished, retrying, observer };
}

const client = (send: Reply, retry = settings(), observer?: RequestObserver): AxiosInstance =>
  axios.create({
    baseURL: 'http://upstream.test/api',
    adapter: createPooledAdapter(async (attempt) => send(attempt), retry, observer),
  });

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (error: unknown) => error as AxiosError,
  );

describe('pooled adapter: the request it hands the transport', () => {
  it('combines baseURL, path and params into the attempt URL and upper-cases the method', async () => {
    const fake = scripted((attempt) => reply(attempt, 200));
    await client(fake.send).delete('/items/7', { params: { q: 'a b', n: 2 } });
    expect(fake.attempts).toHaveLength(1);
    expect(fake.attempts[0]?.url.href).toBe('http://upstream.test/api/items/7?q=a+b&n=2');
    expect(fake.attempts[0]?.method).toBe('DELETE');
  });

  it('keeps an absolute URL as it is', async () => {
    const fake = scripted((attempt) => reply(attempt, 200));
    await client(fake.send).get('http://other.test:8080/x');
    expect(fake.attempts[0]?.url.href).toBe('http://other.test:8080/x');
  });

  it('fails with ERR_INVALID_URL when no absolute URL can be built', async () => {
    const send = jest.fn<SendAttempt>();
    const instance = axios.create({ adapter: createPooledAdapter(send, settings()) });
    const error = await failure(instance.get('/relative-only'));
    expect(error.code).toBe('ERR_INVALID_URL');
    expect(send).not.toHaveBeenCalled();
  });
});

describe('pooled adapter: validateStatus', () => {
  it('resolves an accepted status with the transport response', async () => {
    const fake = scripted((attempt) => reply(attempt, 201, {}, 'created'));
    const response = await client(fake.send).post('/items', { a: 1 });
    expect(response.status).toBe(201);
    expect(response.data).toBe('created');
  });

  it.each([
    [404, 'ERR_BAD_REQUEST'],
    [500, 'ERR_BAD_RESPONSE'],
  ])('rejects %i with %s and the response attached', async (status, code) => {
    const fake = scripted((attempt) => reply(attempt, status));
    const error = await failure(client(fake.send, settings({ retries: 0 })).get('/x'));
    expect(error.code).toBe(code);
    expect(error.response?.status).toBe(status);
    expect(error.message).toBe(`Request failed with status code ${status}`);
  });

  it('destroys a streamed body it rejects (nobody else will read it)', async () => {
    const body = new Readable({ read() {} });
    const fake = scripted((attempt) => reply(attempt, 404, {}, body));
    const error = await failure(client(fake.send).get('/x', { responseType: 'stream' }));
    expect(error.response?.status).toBe(404);
    expect(body.destroyed).toBe(true);
  });
});

describe('pooled adapter: retry', () => {
  it('retries a retryable status and reports each attempt and the retry', async () => {
    const rec = recorder();
    const fake = scripted(
      (attempt) => reply(attempt, 503),
      (attempt) => reply(attempt, 200, {}, 'second'),
    );
    const response = await client(fake.send, settings({ backoffMs: () => 7 }), rec.observer).get(
      '/r',
    );
    expect(response.data).toBe('second');
    expect(fake.attempts).toHaveLength(2);
    expect(rec.finished.map((f) => f.status)).toEqual([503, 200]);
    expect(rec.retrying).toEqual([
      { url: 'http://upstream.test/api/r', reason: 'status_503', delayMs: 7 },
    ]);
  });

  it('retries a connection reset and stops after `retries` retries', async () => {
    const rec = recorder();
    const fake = scripted((attempt) => Promise.reject(networkError(attempt, 'ECONNRESET')));
    const error = await failure(
      client(fake.send, settings({ retries: 2 }), rec.observer).get('/r'),
    );
    expect(error.code).toBe('ECONNRESET');
    expect(fake.attempts).toHaveLength(3);
    expect(rec.retrying.map((r) => r.reason)).toEqual(['connection_reset', 'connection_reset']);
    expect(rec.finished.every((f) => f.status === undefined && f.error !== undefined)).toBe(true);
  });

  it('hands out the last retryable response once retries run out (then validateStatus)', async () => {
    const fake = scripted((attempt) => reply(attempt, 502));
    const error = await failure(client(fake.send, settings({ retries: 1 })).get('/r'));
    expect(fake.attempts).toHaveLength(2);
    expect(error.response?.status).toBe(502);
  });

  it('waits the Retry-After the upstream asks for instead of the backoff', async () => {
    const rec = recorder();
    const fake = scripted(
      (attempt) => reply(attempt, 429, { 'retry-after': '0' }),
      (attempt) => reply(attempt, 200),
    );
    const backoffMs = jest.fn(() => 5000);
    await client(fake.send, settings({ backoffMs }), rec.observer).get('/r');
    expect(fake.attempts).toHaveLength(2);
    expect(backoffMs).not.toHaveBeenCalled();
    expect(rec.retrying[0]).toMatchObject({ reason: 'status_429', delayMs: 0 });
  });

  it('gives up at once when Retry-After is longer than retryAfterMaxMs', async () => {
    const fake = scripted((attempt) => reply(attempt, 503, { 'retry-after': '120' }));
    const error = await failure(client(fake.send, settings({ retryAfterMaxMs: 1000 })).get('/r'));
    expect(fake.attempts).toHaveLength(1);
    expect(error.response?.status).toBe(503);
  });

  it('does not retry a POST unless retryNonIdempotent is set', async () => {
    const once = scripted(
      (attempt) => reply(attempt, 503),
      (attempt) => reply(attempt, 200),
    );
    await failure(client(once.send).post('/p', 'x'));
    expect(once.attempts).toHaveLength(1);

    const twice = scripted(
      (attempt) => reply(attempt, 503),
      (attempt) => reply(attempt, 200),
    );
    const response = await client(twice.send, settings({ retryNonIdempotent: true })).post(
      '/p',
      'x',
    );
    expect(response.status).toBe(200);
    expect(twice.attempts).toHaveLength(2);
  });

  it('does not retry a read timeout', async () => {
    const fake = scripted((attempt) =>
      Promise.reject(networkError(attempt, 'UND_ERR_HEADERS_TIMEOUT')),
    );
    const error = await failure(client(fake.send).get('/r'));
    expect(error.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(fake.attempts).toHaveLength(1);
  });

  it('destroys a retried streamed response before the next attempt', async () => {
    const first = new Readable({ read() {} });
    const fake = scripted(
      (attempt) => reply(attempt, 503, {}, first),
      (attempt) => reply(attempt, 200, {}, Readable.from(['fine'])),
    );
    const response = await client(fake.send).get<Readable>('/s', { responseType: 'stream' });
    expect(first.destroyed).toBe(true);
    expect(response.data).not.toBe(first);
    response.data.destroy();
  });
});

describe('pooled adapter: cancellation and the total timeout', () => {
  it("aborts the attempt with a CanceledError when the caller's signal aborts", async () => {
    const fake = hanging();
    const controller = new AbortController();
    const pending = failure(client(fake.send).get('/slow', { signal: controller.signal }));
    const attempt = await fake.started;
    controller.abort();
    const error = await pending;
    expect(isCancel(error)).toBe(true);
    expect(error.code).toBe('ERR_CANCELED');
    expect(attempt.aborted).toBe(true);
    expect(attempt.signal.aborted).toBe(true);
  });

  it('never sends a request whose signal is already aborted', async () => {
    const send = jest.fn<SendAttempt>();
    const instance = axios.create({ adapter: createPooledAdapter(send, settings()) });
    const controller = new AbortController();
    controller.abort();
    const error = await failure(
      instance.get('http://upstream.test/x', { signal: controller.signal }),
    );
    expect(isCancel(error)).toBe(true);
    expect(send).not.toHaveBeenCalled();
  });

  it('cancels through a cancelToken', async () => {
    const fake = hanging();
    const source = axios.CancelToken.source();
    const pending = failure(client(fake.send).get('/slow', { cancelToken: source.token }));
    await fake.started;
    source.cancel('stop');
    const error = await pending;
    expect(isCancel(error)).toBe(true);
  });

  it.each([
    [false, 'ECONNABORTED', 'timeout of 20ms exceeded'],
    [true, 'ETIMEDOUT', 'timeout of 20ms exceeded'],
  ])(
    'fails a request past its total timeout (clarifyTimeoutError %s → %s)',
    async (clarifyTimeoutError, code, message) => {
      const fake = hanging();
      const error = await failure(
        client(fake.send).get('/slow', { timeout: 20, transitional: { clarifyTimeoutError } }),
      );
      expect(error.code).toBe(code);
      expect(error.message).toBe(message);
      expect((await fake.started).aborted).toBe(true);
    },
  );

  it('uses timeoutErrorMessage when set', async () => {
    const fake = hanging();
    const error = await failure(
      client(fake.send).get('/slow', { timeout: 20, timeoutErrorMessage: 'upstream too slow' }),
    );
    expect(error.message).toBe('upstream too slow');
  });
});

describe('PooledAdapter: cancel hook and instance state', () => {
  const config = { url: 'http://upstream.test/x', method: 'get', headers: new AxiosHeaders() };

  it('is found back from its adapter function, and only from it', () => {
    const adapter = new PooledAdapter(jest.fn<SendAttempt>(), settings());
    expect(pooledAdapterOf(adapter.adapter)).toBe(adapter);
    expect(pooledAdapterOf(createPooledAdapter(jest.fn<SendAttempt>(), settings()))).toBeInstanceOf(
      PooledAdapter,
    );
    expect(pooledAdapterOf(axios.getAdapter('http'))).toBeUndefined();
    expect(pooledAdapterOf(() => undefined)).toBeUndefined();
    expect(pooledAdapterOf(undefined)).toBeUndefined();
  });

  it('gives the offered hook a cancel while the request is in flight, and clears it after', async () => {
    const fake = hanging();
    const adapter = new PooledAdapter(fake.send, settings());
    const hook: CancelHook = { cancel: undefined };
    const pending = failure(adapter.withCancelHook(hook, () => adapter.adapter(config as never)));
    await fake.started;
    expect(hook.cancel).toBeInstanceOf(Function);
    hook.cancel?.();
    const error = await pending;
    expect(isCancel(error)).toBe(true);
    expect(hook.cancel).toBeUndefined();
  });

  it('offers a hook to one request only', async () => {
    const fake = scripted((attempt) => reply(attempt, 200));
    const adapter = new PooledAdapter(fake.send, settings());
    const hook: CancelHook = { cancel: undefined };
    const seen: Array<(() => void) | undefined> = [];
    await adapter.withCancelHook(hook, () => {
      const first = adapter.adapter(config as never);
      seen.push(hook.cancel);
      // A second request started inside the same call finds nothing on offer.
      const second = adapter.adapter(config as never);
      seen.push(hook.cancel);
      return Promise.all([first, second]);
    });
    expect(seen[0]).toBeInstanceOf(Function);
    expect(seen[1]).toBe(seen[0]);
    expect(fake.attempts).toHaveLength(2);
    expect(hook.cancel).toBeUndefined();
  });

  it("never hands one client's hook to another client's adapter", async () => {
    const a = new PooledAdapter(jest.fn<SendAttempt>(), settings());
    const fake = hanging();
    const b = new PooledAdapter(fake.send, settings());
    const hook: CancelHook = { cancel: undefined };
    const pending = failure(
      a.withCancelHook(hook, () => b.adapter({ ...config, timeout: 20 } as never)),
    );
    await fake.started;
    expect(hook.cancel).toBeUndefined();
    expect((await pending).code).toBe('ECONNABORTED');
  });
});
