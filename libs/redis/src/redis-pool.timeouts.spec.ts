import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Command } from 'ioredis';

import { COMMAND_TIMED_OUT_MESSAGE, CommandTimeouts } from './redis-pool.timeouts.js';

/** ioredis' reply queue, reduced to what the sweep reads. */
class FakeConnection {
  readonly awaiting: object[] = [];
  readonly stream = { destroy: jest.fn<(error?: Error) => void>() };
  readonly commandQueue: { peekFront(): unknown; readonly length: number };
  constructor() {
    const awaiting = this.awaiting;
    this.commandQueue = {
      peekFront: () => awaiting[0],
      get length() {
        return awaiting.length;
      },
    };
  }
}

/** A real ioredis command, and when (fake ms) its promise settled and how. */
function command(): { cmd: Command; outcome: () => string | undefined } {
  const cmd = new Command('get', ['k']);
  let outcome: string | undefined;
  cmd.promise.then(
    () => (outcome = `resolved@${Date.now()}`),
    (err: Error) => (outcome = `${err.message}@${Date.now()}`),
  );
  return { cmd, outcome: () => outcome };
}

describe('CommandTimeouts', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('sweeps at 1/20 of the shorter timeout, between 5 and 100 ms', () => {
    const conn = new FakeConnection();
    expect(new CommandTimeouts(conn, 2000, 2000).tickMs).toBe(100);
    expect(new CommandTimeouts(conn, 1000, 500).tickMs).toBe(25);
    expect(new CommandTimeouts(conn, 40, undefined).tickMs).toBe(5);
    expect(new CommandTimeouts(conn, undefined, undefined).enabled).toBe(false);
  });

  it('rejects an unanswered command after the timeout, never before and at most two ticks late', async () => {
    const conn = new FakeConnection();
    const timeouts = new CommandTimeouts(conn, 1000, undefined);
    jest.advanceTimersByTime(37);
    const slow = command();
    timeouts.track(slow.cmd);
    await jest.advanceTimersByTimeAsync(999);
    expect(slow.outcome()).toBeUndefined();
    await jest.advanceTimersByTimeAsync(2 * timeouts.tickMs);
    expect(slow.outcome()).toMatch(new RegExp(`^${COMMAND_TIMED_OUT_MESSAGE}@`));
    const firedAt = Number(slow.outcome()!.split('@')[1]);
    expect(firedAt - 37).toBeGreaterThanOrEqual(1000);
    expect(firedAt - 37).toBeLessThanOrEqual(1000 + 2 * timeouts.tickMs);
  });

  it('leaves answered commands alone and stops its timer when nothing is pending', async () => {
    const conn = new FakeConnection();
    const timeouts = new CommandTimeouts(conn, 500, undefined);
    const answered = Array.from({ length: 5 }, command);
    for (const { cmd } of answered) timeouts.track(cmd);
    expect(jest.getTimerCount()).toBe(1);
    for (const { cmd } of answered) cmd.resolve(Buffer.from('v'));
    await jest.advanceTimersByTimeAsync(2000);
    for (const { outcome } of answered) expect(outcome()).toMatch(/^resolved@/);
    expect(timeouts.tracked).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps only the commands in flight: answered ones leave as new ones are sent', () => {
    const conn = new FakeConnection();
    const timeouts = new CommandTimeouts(conn, 2000, undefined);
    for (let i = 0; i < 5000; i++) {
      const { cmd } = command();
      timeouts.track(cmd);
      cmd.resolve(Buffer.from('v'));
    }
    expect(timeouts.tracked).toBe(1);
  });

  it('rejects only the overdue commands, in order, behind an answered one', async () => {
    const conn = new FakeConnection();
    const timeouts = new CommandTimeouts(conn, 300, undefined);
    const first = command();
    timeouts.track(first.cmd);
    await jest.advanceTimersByTimeAsync(200);
    const second = command();
    timeouts.track(second.cmd);
    first.cmd.resolve(Buffer.from('v'));
    await jest.advanceTimersByTimeAsync(200);
    expect(first.outcome()).toMatch(/^resolved@/);
    expect(second.outcome()).toBeUndefined();
    await jest.advanceTimersByTimeAsync(200);
    expect(second.outcome()).toMatch(/^Command timed out@/);
  });

  it('destroys the socket when the oldest awaited reply stays missing for the socket timeout', async () => {
    const conn = new FakeConnection();
    const timeouts = new CommandTimeouts(conn, undefined, 400);
    const { cmd } = command();
    timeouts.track(cmd);
    conn.awaiting.push({ cmd });
    await jest.advanceTimersByTimeAsync(300);
    // A reply arrived, the next one is awaited: the silence starts again.
    conn.awaiting.shift();
    conn.awaiting.push({ next: true });
    await jest.advanceTimersByTimeAsync(300);
    expect(conn.stream.destroy).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(200);
    expect(conn.stream.destroy).toHaveBeenCalledTimes(1);
    expect(conn.stream.destroy.mock.calls[0]![0]!.message).toBe(
      "Socket timeout. Expecting data, but didn't receive any in 400ms.",
    );
    conn.awaiting.length = 0;
    await jest.advanceTimersByTimeAsync(100);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('after a blocked event loop, lets waiting replies be read before timing anything out', async () => {
    const conn = new FakeConnection();
    const timeouts = new CommandTimeouts(conn, 1000, 1000);
    const clock = jest.spyOn(performance, 'now');
    clock.mockReturnValue(0);
    const before = command();
    timeouts.track(before.cmd);
    conn.awaiting.push({ before: true });
    clock.mockReturnValue(50);
    timeouts.sweep();
    // The loop is blocked for 5 s; a command is sent at its end.
    const after = command();
    timeouts.track(after.cmd);
    clock.mockReturnValue(5050);
    timeouts.sweep();
    await Promise.resolve();
    expect(before.outcome()).toBeUndefined();
    expect(conn.stream.destroy).not.toHaveBeenCalled();
    // One turn later the reply to the first command still has not come: now it times out, the
    // command sent after the block does not.
    clock.mockReturnValue(5100);
    timeouts.sweep();
    await Promise.resolve();
    expect(before.outcome()).toBe(`${COMMAND_TIMED_OUT_MESSAGE}@0`);
    expect(after.outcome()).toBeUndefined();
    clock.mockReturnValue(6049);
    timeouts.sweep();
    await Promise.resolve();
    expect(after.outcome()).toBeUndefined();
    clock.mockReturnValue(6051);
    timeouts.sweep();
    await Promise.resolve();
    expect(after.outcome()).toMatch(/^Command timed out@/);
    clock.mockRestore();
    timeouts.stop();
  });

  it('stop() clears the timer and forgets the commands', () => {
    const conn = new FakeConnection();
    const timeouts = new CommandTimeouts(conn, 1000, 1000);
    timeouts.track(command().cmd);
    timeouts.stop();
    expect(jest.getTimerCount()).toBe(0);
    expect(timeouts.tracked).toBe(0);
  });
});
