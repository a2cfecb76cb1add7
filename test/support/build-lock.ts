import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The one lock every suite's `tsc -b` runs under (`flock BUILD_LOCK node tsc -b …`). The builds
 * of the suites overlap (CodeBot's references every lib, the packaging suite builds every lib,
 * the wire-server suites build libs/testing), and two `tsc -b` writing the same outputs at once
 * can fail or hand a half-written file to the other. One lock per checkout, so two checkouts on
 * one machine do not wait for each other.
 */
export const BUILD_LOCK = join(
  tmpdir(),
  `nest-pools-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`,
);

/** `flock`'s arguments for `tsc -b` of `projects` (paths from the checkout root) under {@link BUILD_LOCK}. */
export function lockedTscBuild(...projects: string[]): string[] {
  return [
    BUILD_LOCK,
    process.execPath,
    join(ROOT, 'node_modules/typescript/bin/tsc'),
    '-b',
    ...projects,
  ];
}

/** A failed child process's exit, signal and output, for the error that reports it. */
export function describeFailedCommand(error: unknown): string {
  const e = error as {
    code?: unknown;
    signal?: unknown;
    killed?: boolean;
    stdout?: unknown;
    stderr?: unknown;
  };
  const text = (value: unknown): string =>
    typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  return [
    `exit code ${text(e.code)}${e.signal ? `, signal ${text(e.signal)}` : ''}${e.killed ? ' (killed)' : ''}`,
    `stdout:\n${text(e.stdout).trimEnd() || '(empty)'}`,
    `stderr:\n${text(e.stderr).trimEnd() || '(empty)'}`,
  ].join('\n');
}
