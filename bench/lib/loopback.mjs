// Preloaded (`node --import`) into every application the benchmarks start: a server that listens
// on a port without naming a host binds 127.0.0.1 instead of every interface, so a benchmark never
// exposes a port beyond this machine.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1');
  } else if (typeof args[0] === 'object' && args[0] !== null && args[0].host === undefined) {
    if ('port' in args[0]) args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
