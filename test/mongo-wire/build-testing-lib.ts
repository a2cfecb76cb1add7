import { spawnSync } from 'node:child_process';

import { lockedTscBuild } from '../support/build-lock.js';

/**
 * Builds libs/testing to dist (what `npm run mongo:dev` runs first). Suites run in parallel
 * workers, so the build holds the suites' one build lock ({@link lockedTscBuild}).
 */
export function buildTestingLib(): void {
  const build = spawnSync('flock', lockedTscBuild('libs/testing/tsconfig.lib.json'), {
    encoding: 'utf8',
  });
  if (build.error) throw build.error;
  if (build.status !== 0) {
    throw new Error(`building libs/testing failed:\n${build.stdout}${build.stderr}`);
  }
}
