/** One check-out held longer than the leak threshold. */
export interface MongoLeakReport {
  /** Pool the connection belongs to. */
  poolName: string;
  /** Driver connection id (unique per server within one client). */
  connectionId: number | string;
  /** Server the connection goes to (`host:port`). */
  address: string;
  /** How long the connection has been checked out, in ms. */
  heldMs: number;
  /** The leak threshold that was crossed, in ms. */
  thresholdMs: number;
  /** Where the connection was checked out, when stack capture is on. */
  stack?: string;
}

interface Started {
  /** `Math.floor(performance.now())` when the check-out started, as the driver measures it. */
  at: number;
  stack: string;
}

/** Stacks of check-outs still waiting are dropped beyond this many per server. */
const MAX_PENDING_STACKS = 10_000;

interface Held {
  connectionId: number | string;
  address: string;
  since: number;
  stack?: string;
  reported: boolean;
}

/**
 * Flags connections checked out of the driver's pool for longer than a threshold. Each check-out
 * is reported once; the scan runs on an unref'd timer, so an idle pool costs nothing and the
 * timer never keeps the process alive.
 */
export class MongoLeakDetector {
  private readonly held = new Map<string, Held>();
  private readonly started = new Map<string, Started[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: {
      poolName: string;
      thresholdMs: number;
      captureStacks: boolean;
      onLeak: (report: MongoLeakReport) => void;
      now?: () => number;
    },
  ) {}

  /**
   * A check-out begins. With stacks on, the stack is captured here: this is the last point where
   * the operation's caller is still on the (async) stack; the connection is handed over later
   * from the driver's wait-queue processing.
   */
  checkOutStarted(address: string): void {
    if (!this.opts.captureStacks) return;
    let queue = this.started.get(address);
    if (queue === undefined) this.started.set(address, (queue = []));
    if (queue.length >= MAX_PENDING_STACKS) queue.shift();
    queue.push({ at: Math.floor(performance.now()), stack: acquiringStack() });
  }

  /** A check-out failed: forgets its stack. */
  checkOutFailed(address: string, durationMS: number): void {
    this.takeStack(address, durationMS);
  }

  /**
   * Records a check-out.
   *
   * @param durationMS the driver's wait time of this check-out, used to find its stack among the
   *   check-outs that started on this server (the driver stamps both with the same clock)
   */
  track(key: string, connectionId: number | string, address: string, durationMS = 0): void {
    const entry: Held = { connectionId, address, since: this.now(), reported: false };
    const stack = this.takeStack(address, durationMS);
    if (stack !== undefined) entry.stack = stack;
    this.held.set(key, entry);
    this.ensureTimer();
  }

  /** Forgets a check-out (checked in, or its connection closed). */
  release(key: string): void {
    this.held.delete(key);
  }

  /** Reports every check-out older than the threshold that was not reported yet. */
  scan(): void {
    const now = this.now();
    for (const entry of this.held.values()) {
      const heldMs = now - entry.since;
      if (entry.reported || heldMs < this.opts.thresholdMs) continue;
      entry.reported = true;
      const report: MongoLeakReport = {
        poolName: this.opts.poolName,
        connectionId: entry.connectionId,
        address: entry.address,
        heldMs,
        thresholdMs: this.opts.thresholdMs,
      };
      if (entry.stack !== undefined) report.stack = entry.stack;
      this.opts.onLeak(report);
    }
  }

  /** Stops the scan timer and forgets everything. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.held.clear();
    this.started.clear();
  }

  private takeStack(address: string, durationMS: number): string | undefined {
    const queue = this.started.get(address);
    if (queue === undefined || queue.length === 0) return undefined;
    const startedAt = Math.floor(performance.now()) - durationMS;
    // Both stamps are whole milliseconds of the same clock: one apart at most.
    let index = queue.findIndex((s) => Math.abs(s.at - startedAt) <= 1);
    if (index === -1) index = 0;
    const [match] = queue.splice(index, 1);
    return match?.stack;
  }

  private ensureTimer(): void {
    if (this.timer !== undefined) return;
    // A quarter of the threshold keeps the report within 25 % of it; bounded so tiny thresholds
    // do not spin and large ones are still noticed within a second.
    const every = Math.min(1_000, Math.max(10, Math.floor(this.opts.thresholdMs / 4)));
    this.timer = setInterval(() => this.scan(), every);
    this.timer.unref();
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }
}

/** The caller's stack without the driver's and this library's own frames. */
function acquiringStack(): string {
  // The driver's own frames alone exceed the default limit of 10.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const lines = stack.split('\n').slice(1);
  const own =
    /node_modules[\\/](mongodb|mongoose)[\\/]|mongo-pool\.[a-z-]+\.(js|ts):|node:events|node:internal/;
  const user = lines.filter((line) => !own.test(line));
  return (user.length > 0 ? user : lines).map((l) => l.trim()).join('\n');
}

/** Message of a leak warning: pool, connection, held time, threshold, and the stack if any. */
export function formatLeakReport(report: MongoLeakReport): string {
  const base =
    `MongoDB pool "${report.poolName}": connection ${report.connectionId} to ${report.address} ` +
    `has been checked out for ${report.heldMs} ms (leak detection threshold ` +
    `${report.thresholdMs} ms). Long-running operations, unclosed cursors or sessions, and ` +
    'transactions that never end hold pool connections; raise MONGODB_LEAK_DETECTION_THRESHOLD_MS ' +
    'if this operation is expected to take this long.';
  if (report.stack === undefined) {
    return `${base} Set MONGODB_LEAK_DETECTION_STACKS=true to log where it was checked out.`;
  }
  return `${base}\nChecked out at:\n${report.stack}`;
}
