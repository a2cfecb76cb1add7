import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Builds libs/testing to dist (what `npm run mongo:dev` runs first). Suites run in parallel
 * workers, so the build holds a lock: two `tsc -b` writing the same outputs could expose a
 * half-written file to the other suite.
 */
export function buildTestingLib(): void {
  const tsc = require.resolve('typescript/bin/tsc');
  const args = [join(tmpdir(), 'nest-pools-testing-build.lock'), process.execPath, tsc, '-b'];
  const build = spawnSync('flock', [...args, 'libs/testing/tsconfig.lib.json'], {
    encoding: 'utf8',
  });
  if (build.error) throw build.error;
  if (build.status !== 0) {
    throw new Error(`building libs/testing failed:\n${build.stdout}${build.stderr}`);
  }
}
