import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

import { BUILD_LOCK } from '../support/build-lock.js';

const require = createRequire(import.meta.url);

/**
 * Builds libs/testing to dist (what `npm run mongo:dev` runs first). Suites run in parallel
 * workers, so the build holds the suites' one build lock ({@link BUILD_LOCK}).
 */
export function buildTestingLib(): void {
  const tsc = require.resolve('typescript/bin/tsc');
  const args = [BUILD_LOCK, process.execPath, tsc, '-b'];
  const build = spawnSync('flock', [...args, 'libs/testing/tsconfig.lib.json'], {
    encoding: 'utf8',
  });
  if (build.error) throw build.error;
  if (build.status !== 0) {
    throw new Error(`building libs/testing failed:\n${build.stdout}${build.stderr}`);
  }
}
