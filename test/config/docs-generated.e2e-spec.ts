// The generated sections of the docs (`<!-- generated:config <id> -->`) must be exactly what
// `npm run docs:config` writes from the definitions; column padding (Prettier) aside.
import { readdirSync, readFileSync } from 'node:fs';

import {
  generatedSectionIds,
  renderConfigReferenceSections,
  staleGeneratedSections,
} from '@nest-pools/core';
import { HTTP_POOL_DEFINITION } from '@nest-pools/http';
import { MONGO_POOL_DEFINITION } from '@nest-pools/mongo';
import { REDIS_POOL_DEFINITION } from '@nest-pools/redis';

const docsDir = new URL('../../docs/', import.meta.url);
const sections = renderConfigReferenceSections([
  MONGO_POOL_DEFINITION,
  REDIS_POOL_DEFINITION,
  HTTP_POOL_DEFINITION,
]);
const pages = readdirSync(docsDir)
  .filter((name) => name.endsWith('.md'))
  .map((name) => ({ name, markdown: readFileSync(new URL(name, docsDir), 'utf8') }));

describe('generated docs sections', () => {
  it('are where the generator writes them', () => {
    const ids = Object.fromEntries(pages.map((p) => [p.name, generatedSectionIds(p.markdown)]));
    expect(ids['configuration.md']).toEqual(['mongo', 'redis', 'http', 'aliases']);
    expect(ids['redis.md']).toEqual(['redis']);
    expect(ids['http.md']).toEqual(['http']);
  });

  it.each(pages.filter((p) => generatedSectionIds(p.markdown).length > 0))(
    'docs/$name is current',
    ({ name, markdown }) => {
      const stale = staleGeneratedSections(markdown, sections);
      if (stale.length > 0) {
        throw new Error(
          `docs are stale: run npm run docs:config (docs/${name}, sections ${stale.join(', ')})`,
        );
      }
    },
  );
});
