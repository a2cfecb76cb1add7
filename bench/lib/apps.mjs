// Starts the applications under test as child processes (CodeBot's built entry point, or the
// anchors app under bench/app/) and stops them. Each child binds 127.0.0.1 (lib/loopback.mjs),
// prints `CODEBOT_READY port=<n>` when it serves, and can write a CPU profile (--cpu-prof).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOOPBACK = fileURLToPath(new URL('./loopback.mjs', import.meta.url));

/** Entry points by kind. */
export const ENTRY = {
  codebot: fileURLToPath(new URL('../../apps/codebot/dist/main.js', import.meta.url)),
  anchors: fileURLToPath(new URL('../app/anchors-app.mjs', import.meta.url)),
};

/** A long random secret for API keys in the benchmark apps (not a credential of anything). */
export const BENCH_API_SECRET = 'bench-secret-bench-secret-bench-secret-0123';

/** Settings every benchmark app gets: quiet, no rate limit in the way, fast shutdown. */
export function commonEnv(extra = {}) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: '0',
    APP_ENV: 'production',
    API_TOKEN_SECRET: BENCH_API_SECRET,
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_WINDOW_MS: '1000',
    SHUTDOWN_DRAIN_DELAY_MS: '0',
    ...(process.env.REDISMS_SYSTEM_BINARY
      ? { REDISMS_SYSTEM_BINARY: process.env.REDISMS_SYSTEM_BINARY }
      : {}),
    ...extra,
  };
}

/**
 * Spawns `kind` (codebot | anchors) with `env`; resolves once it printed its ready line.
 * `cpuProfDir` writes a V8 CPU profile there when the process exits; `nodeArgs` are more Node
 * options (`--trace-gc`); `onLine(line)` sees every line the app writes to stdout or stderr.
 */
export async function startApp(
  kind,
  env,
  { cpuProfDir, readyTimeoutMs = 60_000, label, nodeArgs = [], onLine } = {},
) {
  const execArgv = ['--import', LOOPBACK, ...nodeArgs];
  if (cpuProfDir) {
    mkdirSync(cpuProfDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`);
  }
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [...execArgv, ENTRY[kind]], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  if (onLine) {
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.on('data', (chunk) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      });
    }
  }
  const exited = once(child, 'exit');
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label ?? kind} not ready within ${readyTimeoutMs} ms:\n${output}`));
    }, readyTimeoutMs);
    const onData = () => {
      const match = /CODEBOT_READY port=(\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve(Number(match[1]));
    };
    child.stdout.on('data', onData);
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`${label ?? kind} exited with ${code} before ready:\n${output}`));
    });
  });
  return {
    kind,
    label: label ?? kind,
    pid: child.pid,
    port,
    /** `Date.now()` when the process was spawned (its CPU profile starts about then). */
    spawnedAt,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    /** SIGTERM (the app's graceful shutdown, which also writes the CPU profile), SIGKILL after 20 s. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * CPU time (user + system, all threads: GC and libuv helpers included) process `pid` has used so
 * far, in ms, from /proc (Linux); undefined elsewhere.
 */
export function processCpuMs(pid) {
  try {
    // Fields after the command name: state is the 1st, utime the 12th, stime the 13th (ticks).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}
