import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';

import type { ShutdownCoordinator } from '../shutdown/shutdown-coordinator.js';
import type { PoolRegistry } from './pool-registry.js';

/** What a pool's lifecycle owner tells {@link PoolLifecycle}. */
export interface PoolLifecycleOptions {
  /** Pool name. */
  readonly name: string;
  /** The pool's system in logs and shutdown reports (`mongodb`, `redis`, `http`): `redis "cache"`. */
  readonly system: string;
  /** Shutdown group name (`redis`). */
  readonly phase: string;
  /** When it closes in the coordinator: lower first (HTTP 100, Redis 200, MongoDB 300). */
  readonly order: number;
  /** Longest the coordinator waits for `close()`, in ms. @default the coordinator's own */
  readonly shutdownTimeoutMs?: number;
  /** Where the pool is found by name (its lib's pool service). */
  readonly registry: PoolRegistry<unknown>;
  /** The application's shutdown coordinator, when it has one. */
  readonly coordinator?: ShutdownCoordinator | undefined;
}

/**
 * The lifecycle owner of one pool — the same shape in every pool library. While the module
 * initialises it registers the pool by name and with the shutdown coordinator, then runs
 * {@link start} (which may fail bootstrap, e.g. with `failFast`); at shutdown it closes through
 * the coordinator (every pool in its order) or, without one, on its own, then unregisters.
 */
export abstract class PoolLifecycle implements OnModuleInit, OnApplicationShutdown {
  private unregisterShutdown: (() => void) | undefined;

  protected constructor(private readonly lifecycle: PoolLifecycleOptions) {}

  /** Starts connecting; rejecting fails bootstrap. */
  protected abstract start(): Promise<void>;

  /** Closes the pool; idempotent, never rejects for an already closed pool. */
  abstract close(): Promise<void>;

  /** What is still open, for the shutdown deadline report. */
  abstract describeOpen(): string[];

  /** Runs after the pool closed at shutdown (forget metrics, stop timers). */
  protected afterShutdown(): void {
    // Nothing by default.
  }

  /** @internal */
  async onModuleInit(): Promise<void> {
    const { name, registry, coordinator } = this.lifecycle;
    registry.register(name, this);
    this.unregisterShutdown = coordinator?.register({
      name: `${this.lifecycle.system} "${name}"`,
      phase: this.lifecycle.phase,
      order: this.lifecycle.order,
      ...(this.lifecycle.shutdownTimeoutMs === undefined
        ? {}
        : { timeoutMs: this.lifecycle.shutdownTimeoutMs }),
      close: () => this.close(),
      describeOpen: () => this.describeOpen(),
    });
    try {
      await this.start();
    } catch (error) {
      this.unregisterShutdown?.();
      registry.unregister(name, this);
      throw error;
    }
  }

  /** @internal */
  async onApplicationShutdown(): Promise<void> {
    const { name, registry, coordinator } = this.lifecycle;
    await (coordinator ? coordinator.closeAll() : this.close());
    this.unregisterShutdown?.();
    registry.unregister(name, this);
    this.afterShutdown();
  }
}
