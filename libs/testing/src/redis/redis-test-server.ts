import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { RedisMemoryServer } from 'redis-memory-server';

import { getFreePort, isPortFree } from '../util/free-port.js';
import { resolveRedisServerBinary } from './redis-binary.js';

/** Options of {@link RedisTestServer} and {@link startRedis}. */
export interface RedisTestServerOptions {
  /**
   * Port to listen on. When omitted a free port is picked at the first start and kept for every
   * later start and restart.
   * @default a free port
   */
  port?: number;
  /**
   * Interface to bind.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Extra `redis-server` arguments, appended after the launcher's defaults (`--save ''`,
   * `--appendonly no`, `--dir <temp dir>`), so they override them: e.g.
   * `['--appendonly', 'yes']`, `['--save', '']`, `['--maxmemory', '10mb']`.
   * @default []
   */
  args?: string[];
  /**
   * Password to require (`--requirepass`). It is also put into {@link RedisTestServer.url}.
   * A `--requirepass` given in `args` is honoured the same way.
   * @default undefined (no authentication)
   */
  password?: string;
  /**
   * Path of the `redis-server` binary.
   * @default resolveRedisServerBinary() (REDISMS_SYSTEM_BINARY, else PATH)
   */
  binary?: string;
}

/** Options of {@link RedisTestServer.stop}. */
export interface RedisStopOptions {
  /**
   * Keep the data directory (AOF/RDB files) so the next {@link RedisTestServer.start} finds the
   * data again. {@link RedisTestServer.restart} always keeps it.
   * @default false
   */
  keepData?: boolean;
}

const DEFAULT_HOST = '127.0.0.1';
/** Attempts at the first start when the port was picked by us and got taken meanwhile. */
const FIRST_START_ATTEMPTS = 3;

function passwordFromArgs(args: readonly string[]): string | undefined {
  const index = args.lastIndexOf('--requirepass');
  return index >= 0 ? args[index + 1] : undefined;
}

/**
 * A real `redis-server` on a loopback port, run through redis-memory-server with the system
 * binary (never downloaded). The port stays the same across {@link stop}/{@link start} and
 * {@link restart}, so clients can reconnect to the same address.
 *
 * Each server gets its own temporary data directory (the process' working directory and
 * `--dir`), removed by {@link stop} unless `keepData` is set.
 *
 * @example
 * const redis = await startRedis({ args: ['--appendonly', 'yes'] });
 * const client = new Redis(redis.url);
 * await client.set('k', 'v');
 * await redis.restart(); // same port, data kept through the AOF
 * client.disconnect();
 * await redis.stop();
 */
export class RedisTestServer {
  private server: RedisMemoryServer | undefined;
  private currentPort: number | undefined;
  private dir: string | undefined;
  private readonly binary: string;
  private readonly hostname: string;
  private readonly extraArgs: readonly string[];
  private readonly secret: string | undefined;

  /**
   * Creates the launcher; nothing runs until {@link start}.
   * @param options Port, bind address, extra arguments, password and binary.
   */
  constructor(options: RedisTestServerOptions = {}) {
    this.binary = options.binary ?? resolveRedisServerBinary();
    this.hostname = options.host ?? DEFAULT_HOST;
    this.currentPort = options.port;
    const args = [...(options.args ?? [])];
    if (options.password !== undefined) {
      args.push('--requirepass', options.password);
    }
    this.extraArgs = args;
    this.secret = passwordFromArgs(args);
  }

  /** Interface the server binds. */
  get host(): string {
    return this.hostname;
  }

  /**
   * Port of the server.
   * @throws Error before the first {@link start} when no port was given.
   */
  get port(): number {
    if (this.currentPort === undefined) {
      throw new Error('RedisTestServer has no port yet; await start() before reading port or url.');
    }
    return this.currentPort;
  }

  /** `redis://[:password@]host:port` of the server (password URL-encoded). */
  get url(): string {
    const auth = this.secret === undefined ? '' : `:${encodeURIComponent(this.secret)}@`;
    return `redis://${auth}${this.hostname}:${this.port}`;
  }

  /** Password the server requires, if any. */
  get password(): string | undefined {
    return this.secret;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.server !== undefined;
  }

  /** Data directory of the server (working directory and `--dir`), while it exists. */
  get dataDir(): string | undefined {
    return this.dir;
  }

  /** PID of the running `redis-server` process. */
  get pid(): number | undefined {
    const info = this.server?.getInstanceInfo();
    return info ? info.childProcess?.pid : undefined;
  }

  /**
   * Starts `redis-server` and resolves once it accepts connections. Does nothing when already
   * running.
   * @returns This server, for chaining.
   * @throws Error when the binary cannot start or a fixed port is taken.
   */
  async start(): Promise<this> {
    if (this.server) {
      return this;
    }
    this.dir ??= await mkdtemp(join(tmpdir(), 'nest-pools-redis-'));
    const pickPort = this.currentPort === undefined;
    if (!pickPort && !(await isPortFree(this.port, this.hostname))) {
      throw new Error(
        `redis-server cannot start on ${this.hostname}:${this.port}: the port is in use. Stop what holds it, or let RedisTestServer pick a free port.`,
      );
    }
    const attempts = pickPort ? FIRST_START_ATTEMPTS : 1;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const port = this.currentPort ?? (await getFreePort(this.hostname));
      try {
        this.server = await this.launch(port);
        this.currentPort = port;
        return this;
      } catch (err) {
        lastError = err;
      }
    }
    throw new Error(
      `redis-server (${this.binary}) did not start on ${this.hostname}:${this.currentPort ?? 'a free port'}: ${String(lastError)}. Check that the port is free and the arguments are valid.`,
      { cause: lastError },
    );
  }

  /**
   * Stops the server gracefully (SIGINT, so an AOF is flushed). Idempotent.
   * @param options `keepData` keeps the data directory for the next {@link start}.
   */
  async stop(options: RedisStopOptions = {}): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      await server.stop();
    }
    if (!options.keepData && this.dir) {
      const dir = this.dir;
      this.dir = undefined;
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Stops and starts the server on the same port, keeping its data directory (so data survives
   * when persistence is on, e.g. `args: ['--appendonly', 'yes']`).
   */
  async restart(): Promise<void> {
    await this.stop({ keepData: true });
    await this.start();
  }

  private async launch(port: number): Promise<RedisMemoryServer> {
    const dir = this.dir;
    if (dir === undefined) {
      throw new Error('RedisTestServer data directory missing; call start() instead of launch().');
    }
    const server = new RedisMemoryServer({
      instance: {
        ip: this.hostname,
        port,
        // Readiness is detected from the log on stdout, so the log level and target are pinned.
        args: ['--dir', dir, ...this.extraArgs, '--loglevel', 'notice', '--logfile', ''],
      },
      binary: { systemBinary: this.binary },
      spawn: { cwd: dir },
    });
    // Without this, redis-memory-server re-checks the port with get-port and may silently move
    // to another one; a restart must come back on the very same port or fail loudly.
    server._previousInstanceConfig = { port };
    try {
      await server.start();
    } catch (err) {
      await server.stop().catch(() => undefined);
      throw err;
    }
    return server;
  }
}

/**
 * Creates and starts a {@link RedisTestServer}.
 * @param options Port, bind address, extra arguments, password and binary.
 * @returns The running server; call `stop()` in `afterAll`.
 * @example
 * const redis = await startRedis();
 * const client = new Redis(redis.url);
 */
export async function startRedis(options: RedisTestServerOptions = {}): Promise<RedisTestServer> {
  return new RedisTestServer(options).start();
}
