import { type ChildProcess, type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type { Agent } from 'node:http';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import {
  type MongoTestBackend,
  type MongoWireReplicaSet,
  type RedisTestServerOptions,
  startMongo,
  type StartMongoOptions,
  startMongoReplicaSet,
  type StartMongoReplicaSetOptions,
  startRedis,
} from '@nest-pools/testing';

import type { GitHubStandIn } from '../../apps/codebot/src/dev/github-stand-in.js';
import type { TelegramStandIn } from '../../apps/codebot/src/dev/telegram-stand-in.js';
import { BUILD_LOCK, describeFailedCommand } from '../support/build-lock.js';

const execFileAsync = promisify(execFile);

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The built app's entry point. */
export const MAIN = join(ROOT, 'apps/codebot/dist/main.js');

// Runs under the lock: builds unless the app's build info is newer than every source and config
// file (tsc -b rewrites or touches it whenever it builds or re-checks), so a no-op stays fast.
const BUILD_SCRIPT = String.raw`import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[1];
const main = join(root, 'apps/codebot/dist/main.js');
const buildInfo = join(root, 'apps/codebot/dist/.tsbuildinfo');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sources = [
  'apps/codebot/src',
  'libs/core/src',
  'libs/mongo/src',
  'libs/redis/src',
  'libs/http/src',
  'libs/testing/src',
];
const configs = ['tsconfig.base.json', 'apps/codebot/tsconfig.app.json', 'package-lock.json'];
let newest = 0;
for (const dir of sources)
  if (existsSync(join(root, dir))) newest = Math.max(newest, newestMtime(join(root, dir)));
for (const file of configs) newest = Math.max(newest, statSync(join(root, file)).mtimeMs);

if (existsSync(main) && existsSync(buildInfo) && statSync(buildInfo).mtimeMs > newest)
  process.exit(0);
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const run = spawnSync(process.execPath, [tsc, '-b', join(root, 'apps/codebot/tsconfig.app.json')], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
`;

let build: Promise<void> | undefined;

/**
 * Compiles the app and the libs it references (`tsc -b`, skipped when the output is newer than
 * every source), once per test process and under a file lock, so suites running in parallel never
 * write the same outputs at once.
 */
export function buildCodebot(): Promise<void> {
  build ??= timedBuild();
  return build;
}

/** One build under the lock; a failure says how long it took and what the build printed. */
function timedBuild(): Promise<void> {
  const startedAt = performance.now();
  return execFileAsync(
    'flock',
    [BUILD_LOCK, process.execPath, '--input-type=module', '-e', BUILD_SCRIPT, ROOT],
    { cwd: ROOT, timeout: 300_000 },
  ).then(
    () => {
      if (!existsSync(MAIN)) throw new Error(`build finished but ${MAIN} is missing`);
    },
    (error: unknown) => {
      const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
      throw new Error(
        `building CodeBot (tsc -b apps/codebot/tsconfig.app.json under ${BUILD_LOCK}) failed after ${seconds} s: ${describeFailedCommand(error)}`,
      );
    },
  );
}

/** A running CodeBot child process. */
export interface CodebotProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Base env for a child: quiet, development preset, no inherited pool/app settings. */
export function baseEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    PORT: '0',
  };
  if (process.env.REDISMS_SYSTEM_BINARY)
    env.REDISMS_SYSTEM_BINARY = process.env.REDISMS_SYSTEM_BINARY;
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** The servers a CodeBot child talks to in the e2e suites. */
export interface CodebotStack {
  redis: { url: string };
  mongo: { url: string };
  telegram: { url: string };
  github: { url: string };
  /** Bot token the Telegram stand-in accepts. */
  telegramToken: string;
}

/** The env that points a CodeBot child at `stack` (to spread into {@link baseEnv}). */
export function stackEnv(stack: CodebotStack): Record<string, string> {
  return {
    REDIS_URL: stack.redis.url,
    MONGODB_URL: stack.mongo.url,
    TELEGRAM_API_URL: stack.telegram.url,
    TELEGRAM_BOT_TOKEN: stack.telegramToken,
    GITHUB_API_URL: stack.github.url,
  };
}

/** A {@link CodebotStack} started by {@link startStack}. */
export interface RunningStack extends CodebotStack {
  redis: Awaited<ReturnType<typeof startRedis>>;
  mongo: MongoTestBackend;
  /** The wire replica set MongoDB runs on, when `replSet` was given. */
  replSet?: MongoWireReplicaSet;
  /** Stops Redis and MongoDB and closes both stand-ins. */
  stop(): Promise<void>;
}

/** A wire replica set as the stack's MongoDB (`mongodb://h1,h2,h3/codebot?replicaSet=`). */
async function replSetBackend(
  options: StartMongoReplicaSetOptions,
): Promise<{ mongo: MongoTestBackend; replSet: MongoWireReplicaSet }> {
  const replSet = await startMongoReplicaSet(options);
  const mongo: MongoTestBackend = {
    url: replSet.uri('codebot'),
    dbName: 'codebot',
    kind: 'wire',
    stop: () => replSet.stop(),
  };
  return { mongo, replSet };
}

/**
 * Starts a real `redis-server`, the test kit's MongoDB backend (a wire replica set with
 * `replSet`) and the given Telegram and GitHub stand-ins together, for one suite (spread
 * {@link stackEnv} of it into {@link baseEnv}).
 */
export async function startStack(parts: {
  telegram: TelegramStandIn;
  github: GitHubStandIn;
  telegramToken: string;
  redis?: RedisTestServerOptions;
  mongo?: StartMongoOptions;
  replSet?: StartMongoReplicaSetOptions;
}): Promise<RunningStack> {
  const { telegram, github, telegramToken } = parts;
  const [redis, { mongo, replSet }] = await Promise.all([
    startRedis(parts.redis),
    parts.replSet
      ? replSetBackend(parts.replSet)
      : startMongo({ dbPrefix: 'codebot', ...parts.mongo }).then((m) => ({
          mongo: m,
          replSet: undefined,
        })),
    telegram.start(),
    github.start(),
  ]);
  return {
    redis,
    mongo,
    ...(replSet ? { replSet } : {}),
    telegram,
    github,
    telegramToken,
    async stop() {
      await Promise.all([redis.stop(), mongo.stop(), telegram.close(), github.close()]);
    },
  };
}

/** Waits until `GET /health/startup` of the app at `baseUrl` answers 200. */
export function waitForStartup(baseUrl: string, timeoutMs = 15_000): Promise<number> {
  return waitUntil(
    async () => (await http(baseUrl, 'GET', '/health/startup')).status === 200,
    timeoutMs,
    100,
    '/health/startup 200',
  );
}

/** Spawns the built app with `env`, collecting stdout and stderr together. */
function spawnCodebot(env: NodeJS.ProcessEnv): {
  child: ChildProcessByStdio<null, Readable, Readable>;
  output: () => string;
} {
  const child = spawn(process.execPath, [MAIN], {
    cwd: tmpdir(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return { child, output: () => out };
}

/** Runs the built app with `env` (see {@link baseEnv}) until it prints its ready line. */
export async function startCodebot(
  env: NodeJS.ProcessEnv,
  readyTimeoutMs = 60_000,
): Promise<CodebotProcess> {
  const { child, output } = spawnCodebot(env);
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    atMs: Date.now(),
  }));
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CodeBot not ready within ${readyTimeoutMs} ms:\n${output()}`));
    }, readyTimeoutMs);
    const onData = () => {
      const match = /CODEBOT_READY port=(\d+)/.exec(output());
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolvePort(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`CodeBot exited with ${code} before ready:\n${output()}`));
    });
  });
  return {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const { code, signal: sig } = await exited;
      return { code, signal: sig };
    },
  };
}

/** Runs the built app expecting it to exit; returns code and output. */
export async function runCodebotToExit(
  env: NodeJS.ProcessEnv,
  timeoutMs = 15_000,
): Promise<{ code: number | null; output: string }> {
  const { child, output } = spawnCodebot(env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output: output() };
}

/** A JSON HTTP response. */
export interface JsonResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

/** One HTTP request over `agent` (keep-alive by default) with a JSON body and answer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- callers assert on the JSON shape
export function http<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  agent?: Agent,
): Promise<JsonResponse<T>> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolveRes, reject) => {
    const req = request(
      `${baseUrl}${path}`,
      {
        method,
        agent,
        headers: {
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
          ...headers,
        },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = text;
          }
          resolveRes({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: parsed as T,
            text,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * `it` when the suite's MongoDB is the test kit's wire server (whose faults the suite drives),
 * else `it.skip` after printing why: `MONGODB_TEST_URL` names a server the suite cannot control.
 */
export function wireServerIt(needs: string): typeof it {
  if (!process.env.MONGODB_TEST_URL) return it;
  console.log(`skipping ${needs}: MONGODB_TEST_URL names a server the test cannot control`);
  return it.skip;
}

/** Polls `probe` every `intervalMs` until it returns true; resolves with the elapsed ms. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
  what = 'condition',
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return Date.now() - start;
    if (Date.now() - start > timeoutMs)
      throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
