import { redisOperationName } from './redis-command-metrics.js';

describe('redisOperationName', () => {
  it('upper-cases the commands ioredis knows', () => {
    expect(['get', 'evalsha', 'HSET', 'client'].map(redisOperationName)).toEqual([
      'GET',
      'EVALSHA',
      'HSET',
      'CLIENT',
    ]);
  });

  it('buckets a name no Redis command has as other', () => {
    expect(redisOperationName('notacommand')).toBe('other');
    expect(redisOperationName('get-user-42')).toBe('other');
  });
});
