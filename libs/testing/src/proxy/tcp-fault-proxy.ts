import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

import { resetSocket } from '../util/reset-socket.js';

/**
 * Fault a {@link TcpFaultProxy} applies:
 * - `pass`: forward bytes untouched;
 * - `latency`: delay every chunk by a fixed time in the chosen direction(s);
 * - `reset`: abort every existing and new connection with a TCP RST (clients see ECONNRESET);
 * - `blackhole`: accept connections but never forward or answer; existing connections stop
 *   moving data too (it is held, not lost, and flows again on heal, as after a network partition);
 * - `refuse`: stop listening (clients see ECONNREFUSED) and reset existing connections.
 */
export type FaultMode = 'pass' | 'latency' | 'reset' | 'blackhole' | 'refuse';

/** Direction latency applies to: client → target (`upstream`), target → client (`downstream`). */
export type ProxyDirection = 'both' | 'upstream' | 'downstream';

/** Options of {@link TcpFaultProxy} and {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Server the proxy forwards to. */
  target: { host: string; port: number };
  /**
   * Port to listen on. The port is kept for `refuse` → `heal`.
   * @default 0 (a free port)
   */
  port?: number;
  /**
   * Interface to bind.
   * @default '127.0.0.1'
   */
  host?: string;
}

/** Snapshot of a {@link TcpFaultProxy}'s counters. */
export interface FaultProxyStats {
  /** Current mode. */
  mode: FaultMode;
  /** Client connections accepted (total) and open now. */
  connections: { total: number; open: number };
  /** Connections opened to the target. */
  upstreamConnects: number;
}

const END = Symbol('end');

/** What the lanes of every connection ask the proxy while moving data. */
interface LanePolicy {
  /** Delay to add to a chunk entering the lane now, in milliseconds. */
  delayFor(direction: 'upstream' | 'downstream'): number;
  /** Whether data is held (blackhole) instead of delivered. */
  holding(): boolean;
}
type Item = { data: Buffer | typeof END; dueAt: number };

/** One direction of a proxied connection: queued chunks waiting for their due time. */
class Lane {
  private readonly queue: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDueAt = 0;
  private awaitingDrain = false;

  constructor(
    private readonly policy: LanePolicy,
    private readonly direction: 'upstream' | 'downstream',
    private readonly source: Socket,
    private readonly dest: () => Socket | undefined,
  ) {}

  push(data: Buffer | typeof END): void {
    const dueAt = Math.max(Date.now() + this.policy.delayFor(this.direction), this.lastDueAt);
    this.lastDueAt = dueAt;
    this.queue.push({ data, dueAt });
    this.pump();
  }

  pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const dest = this.dest();
    if (this.policy.holding() || dest === undefined) return;
    const now = Date.now();
    while (this.queue.length > 0) {
      const head = this.queue[0] as Item;
      if (head.dueAt > now) {
        this.timer = setTimeout(() => this.pump(), head.dueAt - now);
        return;
      }
      this.queue.shift();
      if (dest.destroyed) continue;
      if (head.data === END) {
        dest.end();
      } else if (!dest.write(head.data) && !this.awaitingDrain) {
        this.awaitingDrain = true;
        this.source.pause();
        dest.once('drain', () => {
          this.awaitingDrain = false;
          if (!this.policy.holding()) this.source.resume();
        });
      }
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

function closedPromise(socket: Socket): Promise<void> {
  return new Promise((resolve) =>
    socket.closed ? resolve() : socket.once('close', () => resolve()),
  );
}

/** A client connection and its connection to the target. */
class Link {
  private upstream: Socket | undefined;
  private upstreamClosed: Promise<void> = Promise.resolve();
  private toClient: Lane | undefined;
  private readonly toUpstream: Lane;
  /** Resolves when the client socket has closed. */
  readonly clientClosed: Promise<void>;

  constructor(
    private readonly policy: LanePolicy,
    private readonly client: Socket,
  ) {
    this.toUpstream = new Lane(policy, 'upstream', client, () => this.upstream);
    client.setNoDelay(true);
    client.on('data', (chunk: Buffer) => this.toUpstream.push(chunk));
    client.on('end', () => this.toUpstream.push(END));
    client.on('error', () => this.abort());
    this.clientClosed = closedPromise(client).then(() => this.abort());
  }

  /** Resolves when both sockets have closed. */
  async closed(): Promise<void> {
    await this.clientClosed;
    await this.upstreamClosed;
  }

  /** Opens the connection to the target unless already done; true when it opened one. */
  connectUpstream(target: { host: string; port: number }): boolean {
    if (this.upstream || this.client.destroyed) return false;
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    this.upstream = upstream;
    this.upstreamClosed = closedPromise(upstream);
    upstream.setNoDelay(true);
    const toClient = new Lane(this.policy, 'downstream', upstream, () => this.client);
    this.toClient = toClient;
    upstream.on('data', (chunk: Buffer) => toClient.push(chunk));
    upstream.on('end', () => toClient.push(END));
    // The target refused or dropped us: the client sees the same kind of failure.
    upstream.on('error', () => resetSocket(this.client));
    upstream.on('close', () => {
      if (!upstream.readableEnded) resetSocket(this.client);
    });
    this.toUpstream.pump();
    return true;
  }

  pause(): void {
    this.client.pause();
    this.upstream?.pause();
  }

  resume(): void {
    this.client.resume();
    this.upstream?.resume();
    this.toUpstream.pump();
    this.toClient?.pump();
  }

  reset(): void {
    this.stopLanes();
    resetSocket(this.client);
    if (this.upstream) resetSocket(this.upstream);
  }

  abort(): void {
    this.stopLanes();
    this.client.destroy();
    this.upstream?.destroy();
  }

  private stopLanes(): void {
    this.toUpstream.stop();
    this.toClient?.stop();
  }
}

/**
 * A TCP proxy on a loopback port that sits between a client and a real server and injects
 * network faults on demand: latency, connection resets, a blackhole and refused connections,
 * all undone by {@link heal}. Mode switches apply to open connections as well as new ones.
 *
 * @example
 * const redis = await startRedis();
 * const proxy = await startFaultProxy({ target: { host: redis.host, port: redis.port } });
 * const client = new Redis(proxy.port, proxy.host);
 * await proxy.blackhole(); // commands hang until they time out
 * await proxy.heal();
 * await proxy.close();
 */
export class TcpFaultProxy {
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private currentMode: FaultMode = 'pass';
  private latencyMs = 0;
  private latencyDirection: ProxyDirection = 'both';
  private boundPort: number | undefined;
  private connectionsTotal = 0;
  private upstreamConnectsTotal = 0;
  private closing: Promise<void> | undefined;
  private readonly policy: LanePolicy = {
    delayFor: (direction) =>
      this.currentMode === 'latency' &&
      (this.latencyDirection === 'both' || this.latencyDirection === direction)
        ? this.latencyMs
        : 0,
    holding: () => this.currentMode === 'blackhole',
  };

  /**
   * Creates the proxy; it listens after {@link start}.
   * @param options Target server and listening address.
   */
  constructor(private readonly options: FaultProxyOptions) {
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) =>
      this.accept(socket),
    );
  }

  /** Interface the proxy binds. */
  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  /**
   * Port the proxy listens on (kept across `refuse` → `heal`).
   * @throws Error before {@link start}.
   */
  get port(): number {
    if (this.boundPort === undefined) {
      throw new Error('TcpFaultProxy is not listening; await start() before reading its port.');
    }
    return this.boundPort;
  }

  /** Server the proxy forwards to. */
  get target(): { host: string; port: number } {
    return { ...this.options.target };
  }

  /** Current fault mode. */
  get mode(): FaultMode {
    return this.currentMode;
  }

  /** Client connections accepted since start (or the last {@link resetCounters}). */
  get totalConnections(): number {
    return this.connectionsTotal;
  }

  /** Client connections open right now. */
  get openConnections(): number {
    return this.links.size;
  }

  /** Snapshot of mode and counters. */
  stats(): FaultProxyStats {
    return {
      mode: this.currentMode,
      connections: { total: this.connectionsTotal, open: this.links.size },
      upstreamConnects: this.upstreamConnectsTotal,
    };
  }

  /** Zeroes the total counters (open connections are still counted as open). */
  resetCounters(): void {
    this.connectionsTotal = 0;
    this.upstreamConnectsTotal = 0;
  }

  /**
   * Starts listening. Does nothing when already listening.
   * @returns This proxy, for chaining.
   */
  async start(): Promise<this> {
    await this.listen(this.options.port ?? 0);
    return this;
  }

  /**
   * Delays every chunk by `ms` in the given direction(s), on open and new connections. Order is
   * kept: chunks never overtake each other.
   * @param ms Added delay per chunk and direction, in milliseconds.
   * @param direction Which way to slow down.
   * @default direction 'both'
   */
  async latency(ms: number, direction: ProxyDirection = 'both'): Promise<void> {
    this.latencyMs = ms;
    this.latencyDirection = direction;
    await this.switchTo('latency');
  }

  /** Aborts every open connection with RST, and every new one as soon as it is accepted. */
  async reset(): Promise<void> {
    await this.switchTo('reset');
  }

  /**
   * Accepts connections but never forwards or answers; open connections stop moving data.
   * Held data flows again on {@link heal}.
   */
  async blackhole(): Promise<void> {
    await this.switchTo('blackhole');
  }

  /** Stops listening, so connects fail with ECONNREFUSED, and resets open connections. */
  async refuse(): Promise<void> {
    await this.switchTo('refuse');
  }

  /** Back to `pass`: listens again on the same port if refusing, releases held data. */
  async heal(): Promise<void> {
    await this.switchTo('pass');
  }

  /** Stops listening and destroys every connection and pending delay. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async switchTo(mode: FaultMode): Promise<void> {
    if (this.closing) throw new Error('TcpFaultProxy is closed; start a new one.');
    const previous = this.currentMode;
    this.currentMode = mode;
    if (mode === 'refuse') {
      await this.unlisten();
    } else {
      await this.listen(this.boundPort ?? this.options.port ?? 0);
    }
    if (mode === 'reset' || mode === 'refuse') {
      for (const link of this.links) link.reset();
    } else if (mode === 'blackhole') {
      for (const link of this.links) link.pause();
    } else if (previous === 'blackhole') {
      for (const link of this.links) {
        if (link.connectUpstream(this.options.target)) this.upstreamConnectsTotal++;
        link.resume();
      }
    }
  }

  private accept(client: Socket): void {
    this.connectionsTotal++;
    if (this.currentMode === 'reset' || this.currentMode === 'refuse') {
      client.on('error', () => undefined);
      resetSocket(client);
      return;
    }
    const link = new Link(this.policy, client);
    this.links.add(link);
    void link.clientClosed.then(() => this.links.delete(link));
    if (this.currentMode === 'blackhole') {
      link.pause();
      return;
    }
    if (link.connectUpstream(this.options.target)) this.upstreamConnectsTotal++;
  }

  private async listen(port: number): Promise<void> {
    if (this.server.listening) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void =>
        reject(
          new Error(
            `TcpFaultProxy could not listen on ${this.host}:${port} (${err.code ?? err.message}); another process took the port.`,
            { cause: err },
          ),
        );
      this.server.once('error', onError);
      this.server.listen({ port, host: this.host }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
  }

  private async unlisten(): Promise<void> {
    if (!this.server.listening) return;
    // close() stops accepting at once; its callback waits for open connections, which the
    // caller resets right after, so it is not awaited here.
    this.server.close();
    await Promise.resolve();
  }

  private async shutdown(): Promise<void> {
    const links = [...this.links];
    const serverClosed = new Promise<void>((resolve) =>
      this.server.listening ? this.server.close(() => resolve()) : resolve(),
    );
    for (const link of links) link.abort();
    await Promise.all([serverClosed, ...links.map((link) => link.closed())]);
  }
}

/**
 * Creates and starts a {@link TcpFaultProxy} in `pass` mode.
 * @param options Target server and listening address.
 * @returns The listening proxy; call `close()` in `afterAll`.
 * @example
 * const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: upstream.port } });
 * await proxy.latency(100);
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<TcpFaultProxy> {
  return new TcpFaultProxy(options).start();
}
