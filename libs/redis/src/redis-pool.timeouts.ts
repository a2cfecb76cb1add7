import type { Command } from 'ioredis';

/** Message of a command that got no reply in time (the same text as ioredis' own timeout). */
export const COMMAND_TIMED_OUT_MESSAGE = 'Command timed out';

/** The sweep never runs more often than this, however short the timeouts. */
const MIN_TICK_MS = 5;
/** …and never less often than this, so a timeout fires at most two ticks late. */
const MAX_TICK_MS = 100;
/** Swept entries are cut from the front of the queue once this many have gathered. */
const COMPACT_AT = 1024;

/** What the sweep reads from the client it watches. */
export interface SweptConnection {
  /** ioredis' queue of written commands waiting for their replies, oldest first. */
  readonly commandQueue: { peekFront(): unknown; readonly length: number };
  /** The current socket, destroyed when it stays silent too long. */
  readonly stream?: { destroy(error?: Error): void } | null;
}

/**
 * The main client's command and socket timeouts, enforced by one sweep timer per client
 * instead of ioredis' per-command timers.
 *
 * ioredis' `commandTimeout` arms (and clears) a timer for every command, and its `socketTimeout`
 * re-arms a timer and a `data` listener for every reply chunk; together they cost about a tenth
 * of a GET's client time. Here sending a command costs two array pushes. Every tick (1/20 of the
 * shorter timeout, 5–100 ms) a sweep gives the commands sent since the previous sweep their
 * deadline, "now + timeout" — they were sent before now, so it is never early, and the queue
 * stays sorted by deadline — and rejects what is overdue. The socket is destroyed when the
 * oldest written command has gone unanswered for the socket timeout: Redis answers in order, so
 * an unchanged head of ioredis' reply queue means no reply has arrived since.
 *
 * A timeout never fires early and, while the event loop keeps up, at most two ticks late. After
 * the event loop was blocked (a late sweep), the sweep first lets the replies that arrived in the
 * meantime be read: it times nothing out until the next tick. The timer runs only while commands
 * are pending, and never keeps the process alive.
 */
export class CommandTimeouts {
  /** Sweep interval, in milliseconds. */
  readonly tickMs: number;
  /** Whether either timeout is set (otherwise there is nothing to track). */
  readonly enabled: boolean;
  private readonly commands: Command[] = [];
  /** Deadline of each command; `Infinity` until the first sweep after it was sent. */
  private readonly deadlines: number[] = [];
  private head = 0;
  /** Commands before this index have their deadline. */
  private stamped = 0;
  private lastSweep = 0;
  private deferred = false;
  private timer: NodeJS.Timeout | undefined;
  private watchedReply: unknown;
  private watchedSince = 0;

  /**
   * @param connection The client whose replies and socket are watched.
   * @param commandTimeoutMs Longest wait for a command's reply; `undefined` for none.
   * @param socketTimeoutMs Longest silence of the socket while replies are due; `undefined` for
   * none.
   */
  constructor(
    private readonly connection: SweptConnection,
    private readonly commandTimeoutMs: number | undefined,
    private readonly socketTimeoutMs: number | undefined,
  ) {
    const shortest = Math.min(commandTimeoutMs ?? Infinity, socketTimeoutMs ?? Infinity);
    this.tickMs = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, Math.floor(shortest / 20)));
    this.enabled = commandTimeoutMs !== undefined || socketTimeoutMs !== undefined;
  }

  /** Commands tracked and not yet swept (settled ones leave at the next send or sweep). */
  get tracked(): number {
    return this.commands.length - this.head;
  }

  /**
   * Starts the clock of a command. Called once per command, when it is first sent (ioredis sends
   * a command again after a reconnect; its deadline stays the first one, as with ioredis' timer).
   * @param command The command.
   */
  track(command: Command): void {
    if (this.timer === undefined) this.start();
    if (this.commandTimeoutMs === undefined) return;
    // Replies settle commands in the order they were sent, so the front is usually settled:
    // dropping it here keeps the queue as short as the number of commands in flight.
    while (this.head < this.commands.length && this.commands[this.head]!.isSettled) this.head++;
    this.compact();
    this.commands.push(command);
    this.deadlines.push(Infinity);
  }

  /** Stops the sweep and forgets every command (the client has ended). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.commands.length = 0;
    this.deadlines.length = 0;
    this.head = 0;
    this.stamped = 0;
    this.watchedReply = undefined;
  }

  private start(): void {
    this.lastSweep = performance.now();
    this.deferred = false;
    this.timer = setInterval(() => this.sweep(), this.tickMs);
    this.timer.unref();
  }

  /** One tick: reject overdue commands, destroy a socket silent too long, stop when idle. */
  sweep(): void {
    const now = performance.now();
    // A sweep two ticks late means the event loop was blocked: replies may be waiting unread.
    // Give them one turn of the loop (once; a loop that is always late still gets timeouts).
    const late = now - this.lastSweep > 2 * this.tickMs && !this.deferred;
    this.deferred = late;
    this.lastSweep = now;
    if (!late) this.expire(now);
    if (this.commandTimeoutMs !== undefined) {
      const deadline = now + this.commandTimeoutMs;
      for (let i = Math.max(this.stamped, this.head); i < this.deadlines.length; i++) {
        this.deadlines[i] = deadline;
      }
      this.stamped = this.deadlines.length;
    }
    this.compact();
    const awaited = this.connection.commandQueue.peekFront();
    if (this.socketTimeoutMs !== undefined) {
      if (awaited === undefined) {
        this.watchedReply = undefined;
      } else if (awaited !== this.watchedReply || late) {
        // A reply arrived since the last look (or the first command was written): restart.
        this.watchedReply = awaited;
        this.watchedSince = now;
      } else if (now - this.watchedSince >= this.socketTimeoutMs) {
        this.watchedReply = undefined;
        this.connection.stream?.destroy(
          new Error(
            `Socket timeout. Expecting data, but didn't receive any in ${this.socketTimeoutMs}ms.`,
          ),
        );
      }
    }
    if (this.head === this.commands.length && awaited === undefined) this.stop();
  }

  private expire(now: number): void {
    while (this.head < this.commands.length) {
      const command = this.commands[this.head]!;
      if (!command.isSettled) {
        if (this.deadlines[this.head]! > now) break;
        command.reject(new Error(COMMAND_TIMED_OUT_MESSAGE));
      }
      this.head++;
    }
  }

  private compact(): void {
    if (this.head === this.commands.length) {
      this.commands.length = 0;
      this.deadlines.length = 0;
      this.head = 0;
      this.stamped = 0;
    } else if (this.head >= COMPACT_AT && this.head * 2 >= this.commands.length) {
      this.commands.splice(0, this.head);
      this.deadlines.splice(0, this.head);
      this.stamped = Math.max(0, this.stamped - this.head);
      this.head = 0;
    }
  }
}
