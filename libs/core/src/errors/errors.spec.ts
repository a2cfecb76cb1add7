import {
  ConfigValidationError,
  PoolClosedError,
  poolClosedMessage,
  PoolError,
  PoolTimeoutError,
  poolTimeoutMessage,
} from './index.js';

describe('PoolError', () => {
  it('names itself after its class, keeps pool name, context and cause', () => {
    const cause = new Error('socket hang up');
    const err = new PoolError('boom', { poolName: 'cache', context: { limit: 3 }, cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('PoolError');
    expect(err.poolName).toBe('cache');
    expect(err.context).toEqual({ limit: 3 });
    expect(err.cause).toBe(cause);
  });

  it('redacts secrets in message and context', () => {
    const err = new PoolError('cannot reach mongodb://app:hunter2@db:27017/x', {
      context: { url: 'redis://:s3cret@cache:6379', password: 'pw', nested: { apiToken: 'tok' } },
    });
    const shown = `${err.message} ${JSON.stringify(err.context)}`;
    expect(shown).not.toMatch(/hunter2|s3cret|"pw"|tok"/);
    expect(err.message).toContain('mongodb://app:***@db:27017/x');
  });
});

describe('PoolTimeoutError', () => {
  it('carries limit and timeoutMs in fields and context', () => {
    const err = new PoolTimeoutError(
      poolTimeoutMessage({
        poolName: 'default',
        operation: 'acquiring a dedicated connection',
        timeoutMs: 250,
        limit: 'acquireTimeoutMs',
      }),
      { poolName: 'default', timeoutMs: 250, limit: 'acquireTimeoutMs' },
    );
    expect(err).toBeInstanceOf(PoolError);
    expect(err.name).toBe('PoolTimeoutError');
    expect(err.timeoutMs).toBe(250);
    expect(err.limit).toBe('acquireTimeoutMs');
    expect(err.context).toMatchObject({ limit: 'acquireTimeoutMs', timeoutMs: 250 });
    expect(err.message).toMatch(/Pool "default": acquiring .* 250 ms \(acquireTimeoutMs\)\. Check/);
  });
});

describe('PoolClosedError', () => {
  it('says what was refused and what to do next', () => {
    const err = new PoolClosedError(poolClosedMessage({ poolName: 'x', operation: 'acquire()' }));
    expect(err.name).toBe('PoolClosedError');
    expect(err.message).toContain('Pool "x" is closed');
    expect(err.message).toContain('acquire() was refused');
  });
});

describe('ConfigValidationError', () => {
  it('lists every issue on its own line', () => {
    const issues = [
      { variable: 'MONGODB_MAX_POOL_SIZE', given: '"abc"', allowed: 'an integer >= 1' },
      { variable: 'options.waitQueueMultiple', given: '4', allowed: 'not supported' },
    ];
    const err = ConfigValidationError.fromIssues(issues, 'Invalid configuration of mongo pool');
    expect(err).toBeInstanceOf(PoolError);
    expect(err.name).toBe('ConfigValidationError');
    expect(err.issues).toEqual(issues);
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('Invalid configuration of mongo pool (2 problems):');
    expect(lines[1]).toBe('  - MONGODB_MAX_POOL_SIZE = "abc"; allowed: an integer >= 1');
    expect(lines[2]).toBe('  - options.waitQueueMultiple = 4; allowed: not supported');
    expect(lines[3]).toMatch(/docs\/configuration\.md/);
  });
});
