import { Command } from 'ioredis';

import { RedisLeaseState } from './redis-connection-state.js';

function sent(state: RedisLeaseState, name: string, ...args: string[]): RedisLeaseState {
  state.observe(new Command(name, args));
  return state;
}

function fresh(): RedisLeaseState {
  const state = new RedisLeaseState();
  state.begin();
  return state;
}

describe('RedisLeaseState', () => {
  it('records WATCH until UNWATCH, EXEC or DISCARD', () => {
    expect(sent(fresh(), 'watch', 'k').watching).toBe(true);
    expect(sent(sent(fresh(), 'watch', 'k'), 'unwatch').watching).toBe(false);
    expect(sent(sent(fresh(), 'WATCH', 'k'), 'EXEC').watching).toBe(false);
    expect(sent(sent(fresh(), 'watch', 'k'), 'discard').watching).toBe(false);
  });

  it('records an open MULTI until EXEC or DISCARD', () => {
    expect(sent(fresh(), 'MULTI').inMulti).toBe(true);
    expect(sent(sent(fresh(), 'multi'), 'exec').inMulti).toBe(false);
    expect(sent(sent(fresh(), 'multi'), 'DISCARD').inMulti).toBe(false);
  });

  it('records SELECT and CLIENT SETNAME, whatever their case', () => {
    expect(sent(fresh(), 'SELECT', '5').selected).toBe(true);
    expect(sent(fresh(), 'client', 'SETNAME', 'x').renamed).toBe(true);
    expect(sent(fresh(), 'client', 'getname').renamed).toBe(false);
  });

  it.each([
    ['subscribe', ['c'], 'SUBSCRIBE (subscriber mode)'],
    ['PSUBSCRIBE', ['c*'], 'PSUBSCRIBE (subscriber mode)'],
    ['monitor', [], 'MONITOR'],
    ['auth', ['pw'], 'AUTH'],
    ['hello', ['3'], 'HELLO'],
    ['reset', [], 'RESET'],
    ['client', ['REPLY', 'OFF'], 'CLIENT REPLY'],
    ['client', ['tracking', 'on'], 'CLIENT TRACKING'],
  ])('taints the connection on %s %j', (name, args, reason) => {
    const state = sent(fresh(), name, ...args);
    expect(state.tainted).toBe(reason);
    // The first reason stays.
    expect(sent(state, 'monitor').tainted).toBe(reason);
  });

  it('leaves ordinary commands alone and starts every lease clean', () => {
    const state = sent(sent(sent(fresh(), 'get', 'k'), 'blpop', 'q', '1'), 'set', 'k', 'v');
    expect(state).toMatchObject({ watching: false, inMulti: false, selected: false });
    sent(sent(state, 'watch', 'k'), 'subscribe', 'c');
    state.begin();
    expect(state).toMatchObject({ watching: false, tainted: undefined, observing: true });
  });
});
