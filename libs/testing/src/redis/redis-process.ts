import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { getFreePort } from '../util/free-port.js';
import { resolveRedisServerBinary } from './redis-binary.js';

/** Options of {@link spawnRedisProcess}. */
export interface RedisProcessOptions {
  /**
   * Port to listen on. When omitted a free port is picked (and another one tried if it gets taken
   * before the server binds it).
   * @default a free port
   */
  port?: number;
  /**
   * Interface to bind (`--bind`).
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Extra `redis-server` arguments, appended after `--port`, `--bind`, `--dir`, `--save ''` and
   * `--appendonly no` (so they override them), e.g.
   * `['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']` or `['--sentinel']`.
   * @default []
   */
  args?: string[];
  /**
   * Text of a configuration file, written to `<dir>/redis.conf` and passed as the first argument.
   * Sentinel needs one (it rewrites its config file), e.g.
   * `'sentinel monitor mymaster 127.0.0.1 6390 1\n'` with `args: ['--sentinel']`.
   * @default undefined (no config file)
   */
  config?: string;
  /**
   * Working and data directory (`--dir`). When omitted a temporary directory is created and
   * removed by `stop()`; a given directory is left in place.
   * @default a new temporary directory
   */
  dir?: string;
  /**
   * Path of the `redis-server` binary.
   * @default resolveRedisServerBinary() (REDISMS_SYSTEM_BINARY, else PATH)
   */
  binary?: string;
  /**
   * How long to wait for the server to answer PING, in milliseconds.
   * @default 10000
   */
  readyTimeoutMs?: number;
}

/** A running `redis-server` process started by {@link spawnRedisProcess}. */
export interface RedisProcess {
  /** Interface the server binds. */
  readonly host: string;
  /** Port the server listens on. */
  readonly port: number;
  /** `redis://host:port` of the server (no credentials). */
  readonly url: string;
  /** Working and data directory of the process. */
  readonly dir: string;
  /** PID of the process. */
  readonly pid: number;
  /** Whether the process has exited (after `stop()` or on its own). */
  readonly exited: boolean;
  /** Last lines the process printed (stdout and stderr), for diagnostics. */
  output(): string;
  /**
   * Stops the process (SIGTERM, SIGKILL after 5 s), then removes the directory if it was created
   * by {@link spawnRedisProcess}. Idempotent.
   */
  stop(): Promise<void>;
}

const DEFAULT_HOST = '127.0.0.1';
const OUTPUT_TAIL_CHARS = 4000;
const STOP_GRACE_MS = 5000;
const PORT_ATTEMPTS = 3;

// Processes still alive are killed when the test process exits, so a suite that dies before its
// afterAll never leaves a redis-server holding a port on a shared machine. The hook is attached
// only while processes exist, to keep one listener at most.
const liveProcesses = new Set<ChildProcess>();
const killLiveProcesses = (): void => {
  for (const child of liveProcesses) child.kill('SIGKILL');
};
function track(child: ChildProcess): void {
  if (liveProcesses.size === 0) process.once('exit', killLiveProcesses);
  liveProcesses.add(child);
}
function untrack(child: ChildProcess): void {
  if (liveProcesses.delete(child) && liveProcesses.size === 0) {
    process.removeListener('exit', killLiveProcesses);
  }
}

/** Sends one PING and resolves with the first reply line, or undefined when nothing answered. */
async function pingOnce(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const finish = (value: string | undefined): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.once('error', () => finish(undefined));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const end = reply.indexOf('\r\n');
      if (end >= 0) finish(reply.slice(0, end));
    });
    socket.once('close', () => finish(undefined));
  });
}

class SpawnedRedis implements RedisProcess {
  private exitPromise: Promise<void>;
  private hasExited = false;
  private tail = '';
  private stopping: Promise<void> | undefined;
  /** Set once the process is handed out, so failed attempts keep the shared directory. */
  removeDirOnStop = false;

  constructor(
    private readonly child: ChildProcess,
    readonly host: string,
    readonly port: number,
    readonly dir: string,
  ) {
    track(child);
    const append = (chunk: Buffer): void => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', () => {
        this.hasExited = true;
        untrack(child);
        resolve();
      });
      child.once('error', (err) => {
        append(Buffer.from(`\n${String(err)}\n`));
        this.hasExited = true;
        untrack(child);
        resolve();
      });
    });
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get exited(): boolean {
    return this.hasExited;
  }

  output(): string {
    return this.tail;
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.hasExited) {
        throw new Error(`redis-server on port ${this.port} exited before it was ready`);
      }
      const reply = await pingOnce(this.host, this.port, 1000);
      // -LOADING means the dataset is still being read; -NOAUTH and other errors mean it is up.
      if (reply !== undefined && !reply.startsWith('-LOADING')) return;
      await sleep(25);
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within ${timeoutMs} ms`);
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (!this.hasExited) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exitPromise;
      clearTimeout(timer);
    }
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    if (this.removeDirOnStop) {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * Spawns a plain `redis-server` process (no redis-memory-server) and resolves once it answers
 * PING. Meant for topologies built from several servers: cluster nodes joined with
 * `redis-cli --cluster create`, replicas, sentinels.
 *
 * @param options Port, arguments, config file text, directory and binary.
 * @returns The running process; call `stop()` in `afterAll`.
 * @throws Error with the server's last output when it exits or does not answer in time.
 * @example
 * const nodes = await Promise.all(
 *   [0, 1, 2].map(() =>
 *     spawnRedisProcess({
 *       args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
 *     }),
 *   ),
 * );
 * // redis-cli --cluster create 127.0.0.1:<port> … --cluster-yes
 * await Promise.all(nodes.map((node) => node.stop()));
 */
export async function spawnRedisProcess(options: RedisProcessOptions = {}): Promise<RedisProcess> {
  const host = options.host ?? DEFAULT_HOST;
  const binary = options.binary ?? resolveRedisServerBinary();
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'nest-pools-redis-proc-')));
  const leading: string[] = [];
  if (options.config !== undefined) {
    const configPath = join(dir, 'redis.conf');
    await writeFile(configPath, options.config);
    leading.push(configPath);
  }
  const attempts = options.port === undefined ? PORT_ATTEMPTS : 1;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = options.port ?? (await getFreePort(host));
    const args = [
      ...leading,
      '--port',
      String(port),
      '--bind',
      host,
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      ...(options.args ?? []),
    ];
    const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new SpawnedRedis(child, host, port, dir);
    try {
      await proc.waitReady(readyTimeoutMs);
      proc.removeDirOnStop = ownsDir;
      return proc;
    } catch (err) {
      lastError = new Error(`${(err as Error).message}; output:\n${proc.output()}`);
      await proc.stop();
    }
  }
  if (ownsDir) await rm(dir, { recursive: true, force: true });
  throw new Error(
    `Could not start redis-server (${binary}) on ${host}: ${(lastError as Error).message}`,
    { cause: lastError },
  );
}
