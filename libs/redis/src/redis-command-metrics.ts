import {
  type HistogramSeries,
  OperationDurations,
  OTHER_LABEL_VALUE,
  type PoolMetrics,
} from '@nest-pools/core';
import { type Command, Redis } from 'ioredis';

import { REDIS_DB_SYSTEM } from './redis-pool.constants.js';
import { classifyRedisError } from './redis-pool.metrics.js';

/** Every command ioredis knows (lower case): the bound of `db_operation_name`. */
const BUILTIN_COMMANDS: ReadonlySet<string> = new Set(Redis.prototype.getBuiltinCommands());

/** Names seen so far and their label, so the hot path does no string work. */
const OPERATION_NAMES = new Map<string, string>();

/**
 * `db_operation_name` of a command: its name in upper case (`GET`, `EVALSHA`) when it is a
 * Redis command ioredis knows, else `other` — a name made up by a caller (`client.call(...)`)
 * never becomes a series of its own.
 */
export function redisOperationName(commandName: string): string {
  let label = OPERATION_NAMES.get(commandName);
  if (label === undefined) {
    label = BUILTIN_COMMANDS.has(commandName.toLowerCase())
      ? commandName.toUpperCase()
      : OTHER_LABEL_VALUE;
    // The known names are bounded; unknown spellings are not kept.
    if (label !== OTHER_LABEL_VALUE) OPERATION_NAMES.set(commandName, label);
  }
  return label;
}

const TIMED = Symbol('nest-pools.redis.timed');
type TimedCommand = Command & { [TIMED]?: true };

/**
 * `performance.now()` read once per turn of the event loop: the replies parsed from one socket
 * chunk share the chunk's arrival time, and the commands issued in one burst of continuations
 * share its start (with auto-pipelining they are written to the socket together at its end
 * anyway). The reading is dropped by a microtask queued when it is taken, which runs before the
 * continuations of the replies it stamped, so a command they issue reads the clock again.
 */
class TurnClock {
  private reading = -1;
  private readonly expire = (): void => {
    this.reading = -1;
  };

  /** Milliseconds, as `performance.now()`, shared by everything in this turn. */
  now(): number {
    let reading = this.reading;
    if (reading < 0) {
      reading = this.reading = performance.now();
      queueMicrotask(this.expire);
    }
    return reading;
  }
}

/**
 * Times Redis commands into `db_client_operation_duration_seconds` (`db_system_name="redis"`,
 * `db_operation_name` the command, `db_namespace` the database index, `error_type` as
 * `pool_errors_total` classifies it). Wraps the command's own resolve/reject, as the breaker does:
 * two closures per command (the reject one also reports the failure to the client's hook) and no
 * extra promise. Times are read from a {@link TurnClock}, about once per socket read rather than
 * twice per command.
 */
export class RedisCommandTimer {
  private readonly durations: OperationDurations;
  private readonly target: { namespace: string };
  private readonly clock = new TurnClock();
  /** The success series per command name as ioredis spells it. */
  private readonly succeeded = new Map<string, HistogramSeries>();
  /** The last command name looked up and its series: a run of GETs skips the map. */
  private lastName = '';
  private lastSeries: HistogramSeries | undefined;

  /**
   * @param metrics The application's pool metrics.
   * @param poolName `pool_name` label.
   * @param db Database index the pool's connections use.
   */
  constructor(metrics: PoolMetrics, poolName: string, db: number) {
    this.durations = new OperationDurations(metrics, poolName, REDIS_DB_SYSTEM);
    this.target = { namespace: String(db) };
  }

  /**
   * Like {@link time}, for a client that may send the same command through again (a Cluster
   * following a redirect): marks it, and times it once.
   */
  timeOnce(command: Command): void {
    const timed = command as TimedCommand;
    if (timed[TIMED] === true) return;
    timed[TIMED] = true;
    this.time(command);
  }

  /**
   * Starts timing `command`; its reply (or failure) ends it. For a command the caller sends once
   * (no mark is added to it: a property more would change the shape of every command).
   * @param onFailure Also called with the error when the command fails, from the same wrapper
   * of `reject` (so a caller that counts failures needs no closure of its own).
   */
  time(command: Command, onFailure?: (err: unknown) => void): void {
    const started = this.clock.now();
    const { resolve, reject } = command;
    command.resolve = (value) => {
      this.successSeries(command.name).observe((this.clock.now() - started) / 1000);
      resolve(value);
    };
    command.reject = (err: Error) => {
      onFailure?.(err);
      this.durations.observe(
        redisOperationName(command.name),
        (performance.now() - started) / 1000,
        this.target,
        classifyRedisError(err),
      );
      reject(err);
    };
  }

  private successSeries(name: string): HistogramSeries {
    if (name === this.lastName && this.lastSeries !== undefined) return this.lastSeries;
    let series = this.succeeded.get(name);
    if (series === undefined) {
      const operation = redisOperationName(name);
      series = this.durations.series(operation, this.target);
      // Bounded: unknown spellings share the `other` series and are not kept by name.
      if (operation !== OTHER_LABEL_VALUE) this.succeeded.set(name, series);
    }
    this.lastName = name;
    this.lastSeries = series;
    return series;
  }
}
