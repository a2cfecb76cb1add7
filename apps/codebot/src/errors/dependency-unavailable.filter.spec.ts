import { PoolTimeoutError, PoolUnavailableError } from '@nest-pools/core';
import type { ArgumentsHost } from '@nestjs/common';
import { FILTER_CATCH_EXCEPTIONS } from '@nestjs/common/constants.js';
import mongoose from 'mongoose';

import { DependencyUnavailableFilter, unavailableAnswer } from './dependency-unavailable.filter.js';

function fakeHost() {
  const sent: { status?: number; headers: Record<string, string>; body?: unknown } = {
    headers: {},
  };
  const response = {
    status(code: number) {
      sent.status = code;
      return response;
    },
    setHeader(name: string, value: string) {
      sent.headers[name] = value;
      return response;
    },
    json(body: unknown) {
      sent.body = body;
      return response;
    },
  };
  const host = {
    getType: () => 'http',
    switchToHttp: () => ({ getResponse: () => response }),
  } as unknown as ArgumentsHost;
  return { host, sent };
}

describe('DependencyUnavailableFilter', () => {
  it('answers an open circuit with 503 and its own Retry-After', () => {
    const error = new PoolUnavailableError({
      poolName: 'default',
      system: 'mongodb',
      since: Date.now(),
      retryAt: Date.now() + 3500,
    });
    const { host, sent } = fakeHost();
    new DependencyUnavailableFilter().catch(error, host);
    expect(sent.status).toBe(503);
    expect(sent.headers['Retry-After']).toBe('4');
    expect(sent.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
  });

  it.each([
    ['server selection', new mongoose.mongo.MongoServerSelectionError('no server', {} as never)],
    ['wait queue', Object.assign(new Error('timed out'), { name: 'MongoWaitQueueTimeoutError' })],
    ['redis acquire', new PoolTimeoutError('acquire timed out', { poolName: 'default' })],
    [
      'not-primary (during an election)',
      new mongoose.mongo.MongoServerError({ code: 10107, codeName: 'NotWritablePrimary' }),
    ],
    [
      'stepped-down',
      new mongoose.mongo.MongoServerError({
        code: 11602,
        codeName: 'InterruptedDueToReplStateChange',
      }),
    ],
  ])('maps a %s timeout to 503 with Retry-After 1', (_what, error) => {
    expect(unavailableAnswer(error)).toMatchObject({ retryAfterSeconds: 1 });
  });

  it('is offered every error, so a wait-queue timeout (no exported class) reaches it', () => {
    // Nest routes an error to a filter only if its @Catch() list names the error's class; an
    // empty list means every error.
    const caught: unknown = Reflect.getMetadata(
      FILTER_CATCH_EXCEPTIONS,
      DependencyUnavailableFilter,
    );
    expect(caught).toEqual([]);
    const { host, sent } = fakeHost();
    new DependencyUnavailableFilter().catch(
      Object.assign(new Error('timed out'), { name: 'MongoWaitQueueTimeoutError' }),
      host,
    );
    expect(sent.status).toBe(503);
    expect(sent.headers['Retry-After']).toBe('1');
  });

  it('leaves other errors alone', () => {
    expect(unavailableAnswer(new Error('boom'))).toBeUndefined();
    expect(unavailableAnswer(new mongoose.mongo.MongoServerError({ code: 11000 }))).toBeUndefined();
  });
});
