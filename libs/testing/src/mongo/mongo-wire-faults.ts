import { HANDSHAKE_COMMANDS } from './mongo-wire-connection.js';
import type { FailNextOptions } from './mongo-wire-options.js';

/** A queued {@link MongoWireServer.failNext} failure and how many commands it still hits. */
export interface PendingFailure extends FailNextOptions {
  remaining: number;
}

/** Latency and failures to inject into commands (the state behind the server's fault API). */
export class WireFaults {
  private globalLatencyMs = 0;
  private readonly commandLatencyMs = new Map<string, number>();
  private readonly failures: PendingFailure[] = [];

  /** See {@link MongoWireServer.setLatency}. */
  setLatency(ms: number, commands?: string | string[]): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be >= 0 ms, got ${ms}`);
    if (commands === undefined) {
      this.globalLatencyMs = ms;
      return;
    }
    for (const name of Array.isArray(commands) ? commands : [commands]) {
      if (ms === 0) this.commandLatencyMs.delete(name);
      else this.commandLatencyMs.set(name, ms);
    }
  }

  /** See {@link MongoWireServer.failNext}. */
  failNext(n: number, options: FailNextOptions): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`failNext needs n >= 1, got ${n}`);
    this.failures.push({ ...options, remaining: n });
  }

  /** Latency a command gets (handshakes only when named). */
  latencyFor(name: string): number {
    const specific = this.commandLatencyMs.get(name);
    if (specific !== undefined) return specific;
    return HANDSHAKE_COMMANDS.has(name) ? 0 : this.globalLatencyMs;
  }

  /** Latency named for one command only (streamed hellos use it). */
  namedLatency(name: string): number {
    return this.commandLatencyMs.get(name) ?? 0;
  }

  /** Consumes the first failure that applies to `name`. */
  takeFailure(name: string): PendingFailure | undefined {
    const failure = this.failures.find((f) =>
      f.commands ? f.commands.includes(name) : !HANDSHAKE_COMMANDS.has(name),
    );
    if (!failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
    return failure;
  }

  /** Removes every latency and pending failure. */
  clear(): void {
    this.globalLatencyMs = 0;
    this.commandLatencyMs.clear();
    this.failures.length = 0;
  }
}
