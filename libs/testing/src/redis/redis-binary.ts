import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Name of the environment variable that points at a `redis-server` binary. */
export const REDIS_SYSTEM_BINARY_ENV = 'REDISMS_SYSTEM_BINARY';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the `redis-server` binary the test kit runs: `REDISMS_SYSTEM_BINARY` when set, otherwise
 * the first `redis-server` on `PATH`. Nothing is ever downloaded.
 *
 * @param env Environment to read `REDISMS_SYSTEM_BINARY` and `PATH` from.
 * @default env process.env
 * @returns Absolute path of an executable `redis-server`.
 * @throws Error naming what to install or set when no binary is found.
 * @example
 * const bin = resolveRedisServerBinary(); // '/usr/bin/redis-server'
 */
export function resolveRedisServerBinary(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const explicit = env[REDIS_SYSTEM_BINARY_ENV];
  if (explicit) {
    if (!isExecutableFile(explicit)) {
      throw new Error(
        `${REDIS_SYSTEM_BINARY_ENV}=${explicit} is not an executable file; point it at redis-server (e.g. /usr/bin/redis-server) or unset it to search PATH.`,
      );
    }
    return explicit;
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    if (isExecutableFile(candidate)) {
      return candidate;
    }
  }
  throw new Error(
    `redis-server was not found on PATH; install it (apt-get install redis-server) or set ${REDIS_SYSTEM_BINARY_ENV} to its path.`,
  );
}
