import { PooledAttempt } from '../transport/pooled-attempt.js';
import type { ResponseView, RetrySettings } from './attempt-runner.js';
import { AttemptRunner } from './attempt-runner.js';

/** A response of the fake request API: its status only. */
interface Reply {
  status: number;
}

const VIEW: ResponseView<Reply> = {
  status: (r) => r.status,
  retryAfter: () => undefined,
  responseOf: () => undefined,
  urlOf: () => undefined,
  discard: () => undefined,
};

const settings: RetrySettings = {
  retries: 2,
  retryNonIdempotent: false,
  retryAfterMaxMs: 30_000,
  backoffMs: () => 0,
};

const attemptOf = () =>
  new PooledAttempt({ headers: {} } as never, new URL('http://a.test/x'), 'GET');

/** Answers from a script, one entry per attempt (a number: that status; an Error: thrown). */
function scripted(...script: Array<number | Error>) {
  let calls = 0;
  const send = (): Promise<Reply> => {
    const next = script[Math.min(calls++, script.length - 1)]!;
    return next instanceof Error ? Promise.reject(next) : Promise.resolve({ status: next });
  };
  return { send, calls: () => calls };
}

/** The `settled` callback's calls: the status handed out, or 'failed'. */
function settledLog() {
  const calls: Array<number | 'failed'> = [];
  const settled = (_attempt: PooledAttempt, response: Reply | undefined) =>
    calls.push(response === undefined ? 'failed' : response.status);
  return { calls, settled };
}

/** A network failure the retry rules retry. */
const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

describe('AttemptRunner: the settled callback hears the final outcome once', () => {
  const runner = new AttemptRunner(settings, VIEW);

  it('after a first attempt that answers', async () => {
    const log = settledLog();
    const script = scripted(200);
    await expect(runner.run(attemptOf(), script.send, true, log.settled)).resolves.toEqual({
      status: 200,
    });
    expect(log.calls).toEqual([200]);
  });

  it('after the retries, with the answer handed out (not the retried 503s)', async () => {
    const log = settledLog();
    const script = scripted(503, reset(), 200);
    await expect(runner.run(attemptOf(), script.send, true, log.settled)).resolves.toEqual({
      status: 200,
    });
    expect(script.calls()).toBe(3);
    expect(log.calls).toEqual([200]);
  });

  it('after a failure that is final: not retryable, or retries used up', async () => {
    const once = settledLog();
    const notRetried = new Error('bad');
    await expect(
      runner.run(attemptOf(), scripted(notRetried).send, true, once.settled),
    ).rejects.toBe(notRetried);
    expect(once.calls).toEqual(['failed']);

    const exhausted = settledLog();
    const script = scripted(reset());
    await expect(
      runner.run(attemptOf(), script.send, true, exhausted.settled),
    ).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(script.calls()).toBe(3);
    expect(exhausted.calls).toEqual(['failed']);
  });

  it('when the request was aborted before it started, or after its first answer', async () => {
    const before = settledLog();
    const aborted = attemptOf();
    const reason = new Error('cancelled');
    aborted.abort(reason);
    await expect(runner.run(aborted, scripted(200).send, true, before.settled)).rejects.toBe(
      reason,
    );
    expect(before.calls).toEqual(['failed']);

    const after = settledLog();
    const attempt = attemptOf();
    const send = () => {
      attempt.abort(reason);
      return Promise.resolve({ status: 503 });
    };
    await expect(runner.run(attempt, send, true, after.settled)).rejects.toBe(reason);
    expect(after.calls).toEqual(['failed']);
  });

  it('for a request that is not retryable: its one outcome', async () => {
    const log = settledLog();
    const script = scripted(503);
    await expect(runner.run(attemptOf(), script.send, false, log.settled)).resolves.toEqual({
      status: 503,
    });
    expect(script.calls()).toBe(1);
    expect(log.calls).toEqual([503]);
  });
});
