import { Client, type Dispatcher, Pool } from 'undici';

/** The events undici's `Agent` counts an origin's connected sockets by. */
const COUNTED_EVENTS = new Set(['connect', 'disconnect', 'connectionError']);

type Listener = (...args: unknown[]) => void;

/**
 * The socket pool of one origin, as undici's `Agent` makes it (a `Client` for one connection, a
 * `Pool` otherwise), for an Agent's `factory` option.
 *
 * The Agent counts the origin's connected sockets from the pool's `connect` / `disconnect`
 * events and, at zero, closes the pool and makes a new one for the next request. A pool it closed
 * still reports: a request cut mid-body is put back in its queue and reconnects before it is
 * dropped. The Agent looks pools up by origin, so it counts those late events against the
 * origin's new pool and closes that one in turn, and from then on every request to the origin
 * opens a connection of its own. Here the listeners the Agent adds while creating the pool (in
 * the same turn) are muted once the pool is closed. `observe` gets the pool first: listeners it
 * adds hear every event, a closing pool's included (its last sockets' connection metrics).
 */
export function originPool(
  origin: string | URL,
  options: Pool.Options,
  observe?: (pool: Pool | Client) => void,
): Pool | Client {
  const pool = options.connections === 1 ? new Client(origin, options) : new Pool(origin, options);
  observe?.(pool);
  let wiring = true;
  queueMicrotask(() => (wiring = false));
  let closed = false;
  const target = pool as unknown as {
    on(event: string, listener: Listener): Dispatcher;
    close(...args: unknown[]): unknown;
  };
  const on = target.on.bind(pool);
  target.on = (event, listener) =>
    on(
      event,
      wiring && COUNTED_EVENTS.has(event)
        ? (...args) => {
            if (!closed) listener(...args);
          }
        : listener,
    );
  const close = target.close.bind(pool);
  target.close = (...args) => {
    closed = true;
    return close(...args);
  };
  return pool;
}
