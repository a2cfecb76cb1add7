import { setTimeout as sleep } from 'node:timers/promises';

import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

import { poolTimeoutMessage } from '../errors/messages.js';
import { withTimeout } from '../health/with-timeout.js';
import { redact } from '../redaction/redaction.js';
import type {
  ShutdownDeadlineReport,
  ShutdownModuleOptions,
} from './interfaces/shutdown-module-options.interface.js';
import { isDrainableHttpServer, KeepAliveDrain } from './keep-alive-drain.js';
import { ReadinessState } from './readiness-state.js';
import { DEFAULT_DRAIN_DELAY_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS } from './shutdown.constants.js';
import { SHUTDOWN_MODULE_OPTIONS } from './shutdown.module-definition.js';

/** Something {@link ShutdownCoordinator} closes at shutdown (usually one pool). */
export interface ShutdownRegistration {
  /** Shown in logs and deadline reports, e.g. `redis "default"`. Redacted before use. */
  name: string;
  /** Group name in logs (`redis`); closers of one `order` close together whatever their phase. */
  phase: string;
  /**
   * When it closes: lower first, equal orders concurrently. Anything that sends work to the
   * others closes before them; the nest-pools libraries use 100 (outbound HTTP), 200 (Redis) and
   * 300 (MongoDB, the system of record, last). Any other integer fits in between.
   */
  order: number;
  /** Closes it; awaited up to `timeoutMs`. */
  close(): Promise<void>;
  /**
   * What is still open, for the deadline report (e.g. `['3 connections checked out']`).
   * @default the name alone
   */
  describeOpen?(): string[];
  /**
   * Longest `close()` is awaited before the coordinator logs it and moves on, in milliseconds.
   * @default the module's `timeoutMs`
   */
  timeoutMs?: number;
}

type EntryState = 'open' | 'closing' | 'closed' | 'failed';

interface Entry {
  readonly registration: ShutdownRegistration;
  state: EntryState;
}

/**
 * Runs the shutdown sequence of an application and closes its pools in a fixed order.
 *
 * Nest's `app.close()` (also run on SIGTERM/SIGINT once the application called
 * `app.enableShutdownHooks()`) calls, in this order: `beforeApplicationShutdown` on every
 * provider → the HTTP server's `close()` (stop accepting, wait for in-flight requests) →
 * `onApplicationShutdown` on every provider. The coordinator uses exactly that:
 *
 * 1. `beforeApplicationShutdown`: readiness turns `draining` (503) at once, the deadline timer
 *    starts, keep-alive connections are told to close after their current response, and the
 *    drain delay passes while requests are still served.
 * 2. Nest closes the HTTP server and waits for in-flight requests.
 * 3. `onApplicationShutdown` (of the coordinator or of any pool module, whichever runs first):
 *    {@link closeAll} closes the registered closers, `http` → `redis` → `mongo`; readiness turns
 *    `stopped`.
 *
 * If the deadline passes first, what is still open is logged and `onDeadline` is called; the
 * library never exits the process.
 */
@Injectable()
export class ShutdownCoordinator
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(ShutdownCoordinator.name);
  private readonly entries = new Set<Entry>();
  /** Highest order whose group has started closing; `-Infinity` before `closeAll`. */
  private closedThrough = Number.NEGATIVE_INFINITY;
  private readonly drainDelayMs: number;
  private readonly timeoutMs: number;
  private keepAlive: KeepAliveDrain | undefined;
  private startedAt: number | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    @Inject(SHUTDOWN_MODULE_OPTIONS) private readonly options: ShutdownModuleOptions,
    private readonly readiness: ReadinessState,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.drainDelayMs = options.drainDelayMs ?? DEFAULT_DRAIN_DELAY_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    if (!(this.drainDelayMs >= 0) || !(this.timeoutMs > 0)) {
      throw new RangeError(
        `ShutdownModule: drainDelayMs must be >= 0 and timeoutMs > 0 ` +
          `(got drainDelayMs=${this.drainDelayMs}, timeoutMs=${this.timeoutMs})`,
      );
    }
  }

  /**
   * Adds a closer. Pool modules call it in `onModuleInit`.
   *
   * @returns a function that removes the closer again (for a pool closed early by hand)
   */
  register(registration: ShutdownRegistration): () => void {
    const entry: Entry = { registration, state: 'open' };
    this.entries.add(entry);
    if (this.closing !== undefined && registration.order <= this.closedThrough) {
      // Its group already closed: close it now rather than leak it.
      this.logger.warn(
        `${this.label(entry)} registered after its shutdown phase "${registration.phase}" (order ${registration.order}) ran; closing it now.`,
      );
      void this.closeEntry(entry);
    }
    return () => {
      this.entries.delete(entry);
    };
  }

  /**
   * Closes every registered closer, group by group in ascending `order` (closers of one order
   * close concurrently; for the nest-pools libraries: HTTP → Redis → MongoDB). Each closer is bounded by its own timeout; a
   * closer that fails or times out is logged (redacted) and the others still run. Idempotent:
   * the first call starts it, every caller awaits the same promise. Never rejects.
   */
  closeAll(): Promise<void> {
    this.closing ??= this.runCloseAll();
    return this.closing;
  }

  /**
   * What has not finished closing, one line each, as reported when the deadline passes: the
   * HTTP server's requests still in flight, then every closer not closed yet (all of them
   * before {@link closeAll}).
   */
  describeOpen(): string[] {
    const lines: string[] = [];
    const requests = this.keepAlive?.inFlightCount ?? 0;
    if (requests > 0) {
      lines.push(`HTTP server: ${requests} request${requests === 1 ? '' : 's'} still in flight`);
    }
    for (const entry of this.entries) {
      if (entry.state === 'closed') continue;
      let details: string[];
      try {
        details = entry.registration.describeOpen?.() ?? [];
      } catch (error) {
        details = [`describeOpen() failed: ${describeError(error)}`];
      }
      const name = this.label(entry);
      lines.push(...(details.length === 0 ? [name] : details.map((d) => `${name}: ${redact(d)}`)));
    }
    return lines;
  }

  /** @internal Starts tracking HTTP requests, so keep-alive connections can be drained. */
  onApplicationBootstrap(): void {
    if (this.options.closeKeepAliveConnections === false || this.keepAlive !== undefined) return;
    const server: unknown = this.adapterHost?.httpAdapter?.getHttpServer();
    if (!isDrainableHttpServer(server)) return;
    this.keepAlive = new KeepAliveDrain(server);
    this.keepAlive.attach();
  }

  /**
   * @internal Shutdown begins: readiness turns `draining`, the deadline starts, then the drain
   * delay passes while requests are still served.
   */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.begin(signal);
    this.keepAlive?.startDraining();
    if (this.drainDelayMs > 0) {
      this.logger.log(`Draining for ${this.drainDelayMs} ms before the HTTP server closes.`);
      await sleep(this.drainDelayMs);
    }
    // Nest closes the HTTP server right after this hook.
    this.keepAlive?.startClosing();
  }

  /** @internal The HTTP server has closed: close every registered pool. */
  async onApplicationShutdown(): Promise<void> {
    await this.closeAll();
    this.keepAlive?.detach();
  }

  private begin(signal?: string): void {
    if (this.startedAt !== undefined) return;
    this.startedAt = performance.now();
    this.readiness.markDraining();
    this.logger.log(
      `Shutdown started${signal === undefined ? '' : ` (${signal})`}: readiness is now 503; ` +
        `deadline ${this.timeoutMs} ms.`,
    );
    this.deadline = setTimeout(() => void this.onDeadline(), this.timeoutMs);
    // The deadline must never be the reason the process stays alive.
    this.deadline.unref();
  }

  private async runCloseAll(): Promise<void> {
    this.begin();
    // Re-read the entries after every group: a closer registered meanwhile with a later order
    // still closes in its turn.
    for (;;) {
      const pending = [...this.entries].filter(
        (e) => e.state === 'open' && e.registration.order > this.closedThrough,
      );
      if (pending.length === 0) break;
      const order = Math.min(...pending.map((e) => e.registration.order));
      const group = pending.filter((e) => e.registration.order === order);
      this.closedThrough = order;
      const phases = [...new Set(group.map((e) => e.registration.phase))].join(', ');
      this.logger.log(`Closing ${phases}: ${group.map((e) => this.label(e)).join(', ')}`);
      await Promise.all(group.map((entry) => this.closeEntry(entry)));
    }
    clearTimeout(this.deadline);
    this.readiness.markStopped();
    const open = this.describeOpen();
    if (open.length === 0) {
      this.logger.log(`Shutdown complete in ${this.elapsedMs()} ms.`);
    } else {
      this.logger.error(`Shutdown finished with closers still open: ${open.join('; ')}`);
    }
  }

  private async closeEntry(entry: Entry): Promise<void> {
    const { registration } = entry;
    const timeoutMs = registration.timeoutMs ?? this.timeoutMs;
    entry.state = 'closing';
    // A closer that finishes after its timeout still counts as closed for the deadline report.
    const closed = Promise.resolve()
      .then(() => registration.close())
      .then(
        () => {
          entry.state = 'closed';
        },
        (error: unknown) => {
          entry.state = 'failed';
          throw error;
        },
      );
    try {
      await withTimeout(
        closed,
        timeoutMs,
        poolTimeoutMessage({
          operation: `closing ${this.label(entry)}`,
          timeoutMs,
          next: 'Shutdown continues with the next pool; raise its shutdown timeout if closing legitimately takes longer.',
        }),
        { limit: 'shutdownTimeoutMs' },
      );
    } catch (error) {
      this.logger.error(`Closing ${this.label(entry)} failed: ${describeError(error)}`);
    }
  }

  private async onDeadline(): Promise<void> {
    const report: ShutdownDeadlineReport = {
      open: this.describeOpen(),
      elapsedMs: this.elapsedMs(),
      timeoutMs: this.timeoutMs,
    };
    this.logger.error(
      `Shutdown deadline of ${this.timeoutMs} ms passed; still open: ` +
        (report.open.length === 0 ? 'nothing registered' : report.open.join('; ')),
    );
    try {
      await this.options.onDeadline?.(report);
    } catch (error) {
      this.logger.error(`onDeadline failed: ${describeError(error)}`);
    }
  }

  private elapsedMs(): number {
    return this.startedAt === undefined ? 0 : Math.round(performance.now() - this.startedAt);
  }

  private label(entry: Entry): string {
    return redact(entry.registration.name);
  }
}

function describeError(error: unknown): string {
  return redact(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
}
