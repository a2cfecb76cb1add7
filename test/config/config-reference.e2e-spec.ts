import { readFileSync } from 'node:fs';

import { ConfigValidationError } from '@nest-pools/core';
import { HTTP_POOL_ENV, HTTP_POOL_PRESETS } from '@nest-pools/http';
import { MONGO_POOL_ENV, MONGO_POOL_PRESETS, parseMongoPoolConfig } from '@nest-pools/mongo';
import { REDIS_POOL_ENV, REDIS_POOL_PRESETS } from '@nest-pools/redis';

const POOL_PRESETS = {
  development: {
    mongo: MONGO_POOL_PRESETS.development,
    redis: REDIS_POOL_PRESETS.development,
    http: HTTP_POOL_PRESETS.development,
  },
  staging: {
    mongo: MONGO_POOL_PRESETS.staging,
    redis: REDIS_POOL_PRESETS.staging,
    http: HTTP_POOL_PRESETS.staging,
  },
  production: {
    mongo: MONGO_POOL_PRESETS.production,
    redis: REDIS_POOL_PRESETS.production,
    http: HTTP_POOL_PRESETS.production,
  },
};

/** Table rows without padding, so the comparison survives Prettier aligning the columns. */
function normalizeTables(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) =>
      line.startsWith('|') ? line.replace(/\s*\|\s*/g, '|').replace(/\|-+(?=\|)/g, '|---') : line,
    )
    .join('\n');
}

const docs = normalizeTables(
  readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8'),
);

// The generated tables are checked strictly by docs-generated.e2e-spec.ts.
describe('docs/configuration.md', () => {
  it('mentions every variable, alias and option key of the metadata', () => {
    for (const meta of [...MONGO_POOL_ENV, ...REDIS_POOL_ENV, ...HTTP_POOL_ENV]) {
      for (const name of [meta.env, ...meta.aliases, meta.key]) {
        if (name !== undefined) expect(docs).toContain(`\`${name}\``);
      }
    }
  });

  it('states every preset number', () => {
    const row = (label: string, pick: (p: (typeof POOL_PRESETS)['production']) => unknown) =>
      normalizeTables(
        `| ${label} | ${(['development', 'staging', 'production'] as const).map((e) => String(pick(POOL_PRESETS[e]))).join(' | ')} |`,
      );
    expect(docs).toContain(row('Mongo `maxPoolSize`', (p) => p.mongo.maxPoolSize));
    expect(docs).toContain(row('Mongo `minPoolSize`', (p) => p.mongo.minPoolSize));
    expect(docs).toContain(row('Redis `maxConnections`', (p) => p.redis.maxConnections));
    expect(docs).toContain(row('HTTP `poolLimit`', (p) => p.http.poolLimit));
    expect(docs).toContain(row('HTTP `limitPerHost`', (p) => p.http.limitPerHost));
    expect(docs).toContain(row('HTTP `timeoutTotalMs`', (p) => p.http.timeoutTotalMs));
  });

  it('shows a validation error exactly as the parser writes it', () => {
    let message = '';
    try {
      parseMongoPoolConfig(
        {
          APP_ENV: 'production',
          MONGODB_URL: 'mongodb://app:s3cret@db1:27017/bot?waitQueueMultiple=4',
          MONGODB_MIN_POOL_SIZE: '50',
          MONGODB_MAX_POOL_SIZE: '20',
          MONGODB_COMPRESSORS: 'zlib,lz4',
          MONGODB_RETRY_WRITES: 'maybe',
        },
        { waitQueueMultiple: 2 },
      );
    } catch (err) {
      if (err instanceof ConfigValidationError) message = err.message;
    }
    expect(message).not.toBe('');
    expect(docs).toContain(`\`\`\`text\n${message}\n\`\`\``);
  });
});
