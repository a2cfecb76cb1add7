import { ObjectId, type Timestamp } from 'bson';

import { MongoWireEngine } from './mongo-wire-engine.js';
import type { MongoWireServerOptions } from './mongo-wire-options.js';
import { ReplicationLag } from './mongo-wire-replication.js';
import type { ReplicaSetView } from './mongo-wire-replset-member.js';
import { opTimestamp, ReplicaMemberRole } from './mongo-wire-replset-member.js';
import { RetryableWriteStore } from './mongo-wire-retryable.js';
import { MongoWireServer } from './mongo-wire-server.js';

/** Options of {@link startMongoReplicaSet}. */
export interface StartMongoReplicaSetOptions {
  /**
   * Replica-set name (`setName`, `?replicaSet=`).
   * @default 'rs0'
   */
  name?: string;
  /**
   * Number of members (1 to 7).
   * @default 3
   */
  members?: number;
  /**
   * Port of the first member; the others listen on the next ports. 0 gives each a free port.
   * @default 0
   */
  port?: number;
  /**
   * Time from losing the primary (step-down, kill, partition) to a new one being elected.
   * @default 200
   */
  electionDelayMs?: number;
  /**
   * Replication lag from the start (see {@link MongoWireReplicaSet.setReplicationLag}).
   * @default 0
   */
  replicationLagMs?: number;
  /**
   * Options of every member's server (`host`, `version`, `tls`, `log`…; `port` is ignored).
   * @default {}
   */
  wire?: Omit<MongoWireServerOptions, 'port'>;
}

/** One state change of the set, with `performance.now()` as `at`. */
export interface ReplicaSetEvent {
  kind: 'elected' | 'steppedDown' | 'killed' | 'restarted' | 'partitioned' | 'healed';
  member: number;
  at: number;
}

/**
 * A replica set of {@link MongoWireServer} members over one shared store (so replication is
 * instantaneous unless a replication lag is set). Members answer `hello` as replica-set members do, the primary takes writes,
 * secondaries refuse them (`NotWritablePrimary`) and serve reads with a non-primary read
 * preference, retryable writes are applied once, and the fault controls move the primary the
 * way an election does: no primary for `electionDelayMs`, then a new one with a higher
 * `electionId` and the same `setVersion`.
 *
 * @example
 * ```ts
 * const rs = await startMongoReplicaSet({ members: 3, name: 'rs0' });
 * await mongoose.connect(rs.uri('app'));
 * rs.stepDown();
 * await rs.waitForPrimary();
 * await rs.stop();
 * ```
 */
export class MongoWireReplicaSet {
  /** Members, by index (member `i` is `hosts[i]`). */
  readonly members: readonly MongoWireServer[];
  /** Every state change so far, oldest first. */
  readonly events: ReplicaSetEvent[] = [];
  /** Delay of the next elections (changeable between faults). */
  electionDelayMs: number;
  private readonly retryable: RetryableWriteStore;
  private readonly replication: ReplicationLag;
  private primaryIndex: number | undefined = 0;
  private currentTerm = 1;
  private electionTimer: NodeJS.Timeout | undefined;
  private readonly partitioned = new Set<number>();
  private lostAcks = 0;
  private writes = { secs: Math.floor(Date.now() / 1000), n: 0, date: new Date() };
  private primaryWaiters: Array<(index: number) => void> = [];

  private constructor(
    readonly name: string,
    count: number,
    options: StartMongoReplicaSetOptions,
  ) {
    this.electionDelayMs = options.electionDelayMs ?? 200;
    this.retryable = new RetryableWriteStore();
    const engine = new MongoWireEngine();
    this.replication = new ReplicationLag(engine, count);
    this.replication.set(options.replicationLagMs ?? 0, this.lastWrite());
    const view = this.view(engine);
    const base = options.port ?? 0;
    this.members = Array.from(
      { length: count },
      (_, i) =>
        new MongoWireServer(
          { ...options.wire, port: base === 0 ? 0 : base + i },
          new ReplicaMemberRole(view, i),
        ),
    );
  }

  /** Starts every member; member 0 is the first primary. */
  static async start(options: StartMongoReplicaSetOptions = {}): Promise<MongoWireReplicaSet> {
    const count = options.members ?? 3;
    if (!Number.isInteger(count) || count < 1 || count > 7) {
      throw new RangeError(`members must be an integer from 1 to 7, got ${count}`);
    }
    const set = new MongoWireReplicaSet(options.name ?? 'rs0', count, options);
    try {
      for (const member of set.members) await member.start();
    } catch (error) {
      await set.stop();
      throw error;
    }
    set.record('elected', 0);
    return set;
  }

  /** `host:port` of every member. */
  get hosts(): string[] {
    return this.members.map((m) => `${m.host}:${m.port}`);
  }

  /** Index of the primary, undefined while there is none. */
  get primary(): number | undefined {
    return this.primaryIndex;
  }

  /** `mongodb://h1,h2,h3` (no database). */
  get url(): string {
    return `mongodb://${this.hosts.join(',')}`;
  }

  /** Connection string for `db` with `replicaSet=<name>`. */
  uri(db = 'test'): string {
    return `${this.url}/${db}?replicaSet=${this.name}`;
  }

  /** Retries answered from the retryable-write history instead of being applied again. */
  get retriesAnswered(): number {
    return this.retryable.retriesAnswered;
  }

  /**
   * Steps the primary down (as `replSetStepDown` does): every member announces "no primary"
   * (awaitable hellos answer at once), the old primary answers writes with
   * `NotWritablePrimary` (keeping its connections, as mongod 4.2+ does; `closeConnections`
   * closes them all but the driver monitors', as mongod 4.0 did), and another member is
   * elected after `electionDelayMs`.
   */
  stepDown(member = this.primaryIndex, options: { closeConnections?: boolean } = {}): void {
    if (member === undefined || member !== this.primaryIndex) {
      throw new Error(`member ${String(member)} is not the primary; nothing to step down`);
    }
    this.loseprimary('steppedDown', member);
    if (options.closeConnections === true) {
      this.members[member]?.closeAllClientSockets({ keepMonitors: true });
    }
  }

  /** Stops member `index` like a crash (sockets closed, port refused); re-elects if primary. */
  async kill(index: number): Promise<void> {
    const server = this.member(index);
    if (this.primaryIndex === index) this.loseprimary('killed', index);
    else this.record('killed', index);
    await server.stop();
  }

  /** Starts a killed member again (same port, new `processId`), as a secondary. */
  async restart(index: number): Promise<void> {
    await this.member(index).start();
    this.record('restarted', index);
    this.notifyAll();
    if (this.primaryIndex === undefined) this.scheduleElection();
  }

  /**
   * `true`: member `index` keeps accepting connections but never answers (a network
   * partition); a partitioned primary is replaced. `false` heals it (it rejoins as secondary).
   */
  partition(index: number, on = true): void {
    const server = this.member(index);
    if (on === this.partitioned.has(index)) return;
    if (on) {
      this.partitioned.add(index);
      server.hang(true);
      if (this.primaryIndex === index) this.loseprimary('partitioned', index);
      else this.record('partitioned', index);
    } else {
      this.partitioned.delete(index);
      server.hang(false);
      this.record('healed', index);
      this.notifyAll();
      if (this.primaryIndex === undefined) this.scheduleElection();
    }
  }

  /**
   * Secondaries apply the primary's writes `ms` after they were made (0, the default: at once).
   * A secondary serves reads with a non-primary read preference, and reports `lastWrite` in
   * `hello`, from its own copy of the data, so a `secondaryPreferred` read right after a write
   * may not see it. Acknowledgements wait for their write concern as on mongod: `w: 'majority'`,
   * `w` above 1 and no write concern at all (mongod 5+'s implicit default is majority) are
   * answered `ms` after the write, `w: 1` at once. A member that stops being primary has
   * every write it took; the primary always reads the latest data. Turning the lag on copies
   * the data to every member (an initial sync); turning it off makes every write visible at once.
   */
  setReplicationLag(ms: number): void {
    this.replication.set(ms, this.lastWrite());
  }

  /** The replication lag now, in milliseconds. */
  get replicationLagMs(): number {
    return this.replication.ms;
  }

  /**
   * The next `n` retryable writes are applied (and recorded) on the primary, then their
   * connection closes before the reply: the driver retries an already-applied write.
   */
  loseNextAcks(n: number): void {
    this.lostAcks += n;
  }

  /**
   * The next retryable write (of `command` when given: `insert`, `update`, `delete`,
   * `findAndModify`) runs only its first `afterStatements` statements, then its connection
   * closes without a reply: a primary failing in the middle of a batch. The driver's retry
   * (same `txnNumber`) runs only the statements not applied and answers the others from the
   * history.
   */
  interruptNextWrite(afterStatements: number, command?: string): void {
    this.retryable.interruptNext(afterStatements, command);
  }

  /** Resolves with the primary's index once there is one. */
  waitForPrimary(timeoutMs = 10_000): Promise<number> {
    if (this.primaryIndex !== undefined) return Promise.resolve(this.primaryIndex);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.primaryWaiters = this.primaryWaiters.filter((w) => w !== done);
        reject(new Error(`no primary elected within ${timeoutMs} ms (are all members down?)`));
      }, timeoutMs);
      const done = (index: number): void => {
        clearTimeout(timer);
        resolve(index);
      };
      this.primaryWaiters.push(done);
    });
  }

  /** Stops every member and any pending election. Idempotent. */
  async stop(): Promise<void> {
    clearTimeout(this.electionTimer);
    this.electionTimer = undefined;
    await Promise.all(this.members.map((m) => m.stop()));
  }

  private member(index: number): MongoWireServer {
    const server = this.members[index];
    if (!server) throw new RangeError(`no member ${index} (the set has ${this.members.length})`);
    return server;
  }

  private record(kind: ReplicaSetEvent['kind'], member: number): void {
    this.events.push({ kind, member, at: performance.now() });
  }

  private loseprimary(kind: ReplicaSetEvent['kind'], member: number): void {
    this.replication.caughtUp(member);
    this.primaryIndex = undefined;
    this.record(kind, member);
    this.notifyAll();
    this.scheduleElection(member);
  }

  private notifyAll(): void {
    for (const m of this.members) if (m.isRunning) m.topologyChanged();
  }

  private available(index: number): boolean {
    return (this.members[index]?.isRunning ?? false) && !this.partitioned.has(index);
  }

  private scheduleElection(previous?: number): void {
    if (this.electionTimer !== undefined) return;
    this.electionTimer = setTimeout(() => {
      this.electionTimer = undefined;
      const order = this.members.map((_, i) => (i + (previous ?? -1) + 1) % this.members.length);
      // A stepped-down primary is not re-elected while another member can be.
      const candidate =
        order.find((i) => i !== previous && this.available(i)) ??
        (previous !== undefined && this.available(previous) ? previous : undefined);
      if (candidate === undefined) return; // elected again when a member comes back
      this.currentTerm += 1;
      this.primaryIndex = candidate;
      this.record('elected', candidate);
      this.notifyAll();
      const waiters = this.primaryWaiters;
      this.primaryWaiters = [];
      for (const wake of waiters) wake(candidate);
    }, this.electionDelayMs);
    this.electionTimer.unref();
  }

  /** The primary's `lastWrite`. */
  private lastWrite(): { ts: Timestamp; date: Date } {
    return { ts: opTimestamp(this.writes.secs, this.writes.n), date: this.writes.date };
  }

  private view(engine: MongoWireEngine): ReplicaSetView {
    return {
      name: this.name,
      setVersion: 1,
      engine,
      retryable: this.retryable,
      hosts: () => this.hosts,
      primary: () => this.primaryIndex,
      // mongod's format: 0x7fffffff then the election term.
      electionId: () => new ObjectId(`7fffffff${this.currentTerm.toString(16).padStart(16, '0')}`),
      term: () => this.currentTerm,
      memberState: (i) => (!this.available(i) ? 8 : i === this.primaryIndex ? 1 : 2),
      wrote: () => {
        const secs = Math.floor(Date.now() / 1000);
        this.writes =
          secs === this.writes.secs
            ? { secs, n: this.writes.n + 1, date: new Date() }
            : { secs, n: 1, date: new Date() };
        this.replication.wrote(this.lastWrite());
      },
      takeLostAck: () => {
        if (this.lostAcks === 0) return false;
        this.lostAcks -= 1;
        return true;
      },
      lastWrite: (i) =>
        (i !== this.primaryIndex ? this.replication.appliedWrite(i) : undefined) ??
        this.lastWrite(),
      readEngine: (i) => (i === this.primaryIndex ? engine : this.replication.readEngine(i)),
      acknowledgementDelay: (cmd) => this.replication.acknowledgementDelay(cmd),
      stepDownFromCommand: (i) => setImmediate(() => this.stepDown(i)),
    };
  }
}

/**
 * Starts a replica set of wire servers on 127.0.0.1 (see {@link MongoWireReplicaSet}).
 *
 * @example
 * ```ts
 * const rs = await startMongoReplicaSet({ members: 3, name: 'rs0' });
 * afterAll(() => rs.stop());
 * ```
 */
export function startMongoReplicaSet(
  options: StartMongoReplicaSetOptions = {},
): Promise<MongoWireReplicaSet> {
  return MongoWireReplicaSet.start(options);
}
