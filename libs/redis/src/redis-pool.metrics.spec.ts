import { PoolTimeoutError } from '@nest-pools/core';
import { ReplyError } from 'ioredis';

import { classifyRedisError } from './redis-pool.metrics.js';

describe('classifyRedisError', () => {
  const reply = (message: string): Error => new (ReplyError as new (m: string) => Error)(message);

  it('labels reply errors by their code', () => {
    expect(
      classifyRedisError(
        reply('WRONGTYPE Operation against a key holding the wrong kind of value'),
      ),
    ).toBe('wrongtype');
    expect(classifyRedisError(reply("READONLY You can't write against a read only replica."))).toBe(
      'readonly',
    );
    expect(classifyRedisError(reply('oops lowercase'))).toBe('reply_error');
  });

  it('labels timeouts, closed connections and socket errors', () => {
    expect(classifyRedisError(new Error('Command timed out'))).toBe('timeout');
    expect(
      classifyRedisError(
        new Error("Socket timeout. Expecting data, but didn't receive any in 100ms."),
      ),
    ).toBe('timeout');
    expect(classifyRedisError(new Error('Connection is closed.'))).toBe('connection_closed');
    expect(
      classifyRedisError(
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe('econnrefused');
  });

  it('labels pool errors and falls back to the class name', () => {
    expect(classifyRedisError(new PoolTimeoutError('x'))).toBe('acquire_timeout');
    class MaxRetriesPerRequestError extends Error {
      override name = 'MaxRetriesPerRequestError';
    }
    expect(classifyRedisError(new MaxRetriesPerRequestError('x'))).toBe('max_retries');
    class SomethingOddError extends Error {
      override name = 'SomethingOddError';
    }
    expect(classifyRedisError(new SomethingOddError('x'))).toBe('something_odd');
    expect(classifyRedisError('not an error')).toBe('unknown');
  });
});
