#!/usr/bin/env node
// Rewrites the generated sections of the docs (`<!-- generated:config <id> -->` …
// `<!-- /generated -->`) from the built pool definitions, then formats each page with Prettier
// so the result is what `npm run format` would leave. Run through `npm run docs:config` (which
// builds first); test/config/docs-generated.e2e-spec.ts fails while a page is stale.
import { readFileSync, writeFileSync } from 'node:fs';

import {
  generatedSectionIds,
  renderConfigReferenceSections,
  replaceGeneratedSections,
} from '@nest-pools/core';
import { HTTP_POOL_DEFINITION } from '@nest-pools/http';
import { MONGO_POOL_DEFINITION } from '@nest-pools/mongo';
import { REDIS_POOL_DEFINITION } from '@nest-pools/redis';
import * as prettier from 'prettier';

const sections = renderConfigReferenceSections([
  MONGO_POOL_DEFINITION,
  REDIS_POOL_DEFINITION,
  HTTP_POOL_DEFINITION,
]);
// docs/mongo.md also keeps its own options table (with the Goes to column), checked against the
// definition by libs/mongo/src/mongo-pool.docs.spec.ts.
const pages = ['docs/configuration.md', 'docs/mongo.md', 'docs/redis.md', 'docs/http.md'];

for (const page of pages) {
  const file = new URL(`../${page}`, import.meta.url);
  const before = readFileSync(file, 'utf8');
  const ids = generatedSectionIds(before);
  if (ids.length === 0) throw new Error(`${page} has no generated section`);
  const options = (await prettier.resolveConfig(file)) ?? {};
  const after = await prettier.format(replaceGeneratedSections(before, sections), {
    ...options,
    filepath: file.pathname,
  });
  if (after !== before) writeFileSync(file, after);
  console.log(`${page}: ${ids.join(', ')}${after === before ? ' (unchanged)' : ' (rewritten)'}`);
}
