// Request/response over a child process' IPC channel: `call(cmd, args)` resolves with the child's
// `{ id, result }` answer, or rejects when it does not come within the timeout.
import { fork } from 'node:child_process';
import { once } from 'node:events';

/**
 * Forks `script` with an IPC channel, waits for its `{ ready: true, … }` message and returns it
 * with `call` (one command, one answer) and `stop` (the `stop` command, then the exit; a
 * SIGKILL if it does not exit in time).
 */
export async function forkWithIpc(script, { env, execArgv = [], readyTimeoutMs = 60_000 } = {}) {
  const child = fork(script, [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let sequence = 0;
  let readyMessage;
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} not ready within ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready`));
    });
    child.on('message', (message) => {
      if (message.ready) {
        clearTimeout(timer);
        readyMessage = message;
        resolve(message);
        return;
      }
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.error) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
  });
  await ready;
  const exited = once(child, 'exit');
  const call = (cmd, args = {}, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const id = ++sequence;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${script}: ${cmd} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      child.send({ id, cmd, ...args });
    });
  return {
    child,
    info: readyMessage,
    call,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await call('stop', {}, timeoutMs).catch(() => child.kill('SIGKILL'));
      await exited;
      clearTimeout(kill);
    },
  };
}

/** Answers `{ id, cmd, … }` messages in a forked child with `handlers[cmd](message)`. */
export function serveIpc(handlers) {
  process.on('message', (message) => {
    const handler = handlers[message.cmd];
    const reply = (body) => process.send({ id: message.id, ...body });
    if (!handler) {
      reply({ error: `unknown command ${message.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message))
      .then(
        (result) => reply({ result: result ?? {} }),
        (error) => reply({ error: String(error?.stack ?? error) }),
      );
  });
}
