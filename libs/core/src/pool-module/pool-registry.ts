import { duplicatePoolMessage, unknownPoolMessage } from '../errors/messages.js';
import { PoolError } from '../errors/pool.error.js';

/** Thrown by {@link PoolRegistry.get} for a name no module registered. */
export class PoolNotFoundError extends PoolError {
  constructor(label: string, name: string, known: readonly string[]) {
    super(unknownPoolMessage(label, name, known), {
      poolName: name,
      context: { known: [...known] },
    });
  }
}

/**
 * The pools of one kind in one application, by name: every pool module registers its lifecycle
 * owner here when it starts and removes it when it closes, so services and health indicators find
 * any pool by name. One instance per application (a provider), never a module-level map.
 */
export class PoolRegistry<T> {
  private readonly pools = new Map<string, T>();

  /** @param label the pool kind in messages (`MongoDB`) */
  constructor(private readonly label: string) {}

  /**
   * Adds a pool under `name`.
   * @throws PoolError when the name is taken: two modules never share one pool silently
   */
  register(name: string, pool: T): void {
    if (this.pools.has(name) && this.pools.get(name) !== pool) {
      throw new PoolError(duplicatePoolMessage(this.label, name), { poolName: name });
    }
    this.pools.set(name, pool);
  }

  /** Removes the pool `name` if it is `pool`. */
  unregister(name: string, pool: T): void {
    if (this.pools.get(name) === pool) this.pools.delete(name);
  }

  /** The pool `name`; throws {@link PoolNotFoundError} listing the registered names. */
  get(name: string): T {
    const pool = this.pools.get(name);
    if (pool === undefined) throw new PoolNotFoundError(this.label, name, this.names());
    return pool;
  }

  /** The pool `name`, or `undefined`. */
  find(name: string): T | undefined {
    return this.pools.get(name);
  }

  /** Registered names, in registration order. */
  names(): string[] {
    return [...this.pools.keys()];
  }

  /** Registered pools, in registration order. */
  values(): T[] {
    return [...this.pools.values()];
  }
}
