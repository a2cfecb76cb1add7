// `nest-pools-config explain` in-process: runConfigExplain is the whole CLI except the process
// wiring (the bin). The loader stands in for `import()` of the built packages and returns the
// definitions from the source barrels. The CLI is no part of core's barrel (its API is the
// command line), hence the path into libs/core/src/bin.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  countField,
  definePool,
  formatPoolConfigExplanation,
  type PoolConfigExplanation,
} from '@nest-pools/core';
import { HTTP_POOL_DEFINITION } from '@nest-pools/http';
import { MONGO_POOL_DEFINITION } from '@nest-pools/mongo';
import { REDIS_POOL_DEFINITION } from '@nest-pools/redis';

import {
  discoverPoolPackages,
  parseConfigExplainArgs,
  runConfigExplain,
} from '../../libs/core/src/bin/config-explain-cli.js';

const X_POOL_DEFINITION = definePool({
  kind: 'x',
  label: 'X',
  fields: { size: countField({ env: 'X_SIZE', default: 3, min: 1, description: 'Size.' }) },
  presets: { development: {}, staging: {}, production: { size: 9 } },
});

const MODULES: Record<string, Record<string, unknown>> = {
  mongo: { MONGO_POOL_DEFINITION },
  redis: { REDIS_POOL_DEFINITION },
  http: { HTTP_POOL_DEFINITION },
  x: { X_POOL_DEFINITION },
};

/** Resolves `file:///…/@nest-pools/<kind>/dist/config/index.js` to that kind's barrel. */
const load = (specifier: string): Promise<Record<string, unknown>> => {
  const kind = /@nest-pools\/([^/]+)\//.exec(specifier)?.[1] ?? '';
  const module = MODULES[kind];
  return module === undefined
    ? Promise.reject(new Error(`cannot import ${specifier}`))
    : Promise.resolve(module);
};

function installFake(dir: string, entry: string, field?: { config: string; definition: string }) {
  const pkgDir = join(dir, 'node_modules', '@nest-pools', entry);
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(
    join(pkgDir, 'package.json'),
    JSON.stringify({ name: `@nest-pools/${entry}`, ...(field ? { 'nest-pools': field } : {}) }),
  );
}

describe('nest-pools-config explain', () => {
  let project: string;
  const explain = (argv: string[], env: Record<string, string> = {}, cwd = project) =>
    runConfigExplain({ argv: ['explain', ...argv], cwd, env, load });

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'nest-pools-explain-'));
    for (const kind of ['mongo', 'redis', 'http']) {
      installFake(project, kind, {
        config: './dist/config/index.js',
        definition: `${kind.toUpperCase()}_POOL_DEFINITION`,
      });
    }
    installFake(project, 'core');
  });

  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('prints every installed pool with value, source and allowed range; exit 0', async () => {
    const result = await explain([], { AIOHTTP_POOL_LIMIT: '30', REDIS_MAX_CONNECTIONS: '12' });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    for (const head of ['MongoDB pool "default"', 'Redis pool "default"', 'HTTP pool "default"']) {
      expect(result.stdout).toContain(head);
    }
    const line = (key: string) => result.stdout.split('\n').find((l) => l.includes(` ${key} `));
    expect(line('poolLimit')).toMatch(/HTTP_POOL_LIMIT\s+30\s+env AIOHTTP_POOL_LIMIT\s+an integer/);
    expect(line('maxConnections')).toMatch(/12\s+env REDIS_MAX_CONNECTIONS/);
    expect(line('maxPoolSize')).toMatch(/20\s+APP_ENV=development preset/);
    expect(line('connectTimeoutMS')).toMatch(/10000\s+default/);
  });

  it('shows an explicit option as its source (the same formatter, in code)', () => {
    const text = formatPoolConfigExplanation([
      MONGO_POOL_DEFINITION.explain({}, { maxPoolSize: 7 }),
    ]);
    expect(text).toMatch(/maxPoolSize\s+MONGODB_MAX_POOL_SIZE\s+7\s+option maxPoolSize/);
  });

  it('masks the password of a URL everywhere, text and JSON', async () => {
    const env = { MONGODB_URL: 'mongodb://user:s3cret@h/db' };
    for (const argv of [[], ['--json']]) {
      const result = await explain(argv, env);
      expect(result.stdout).toContain('mongodb://user:***@h/db');
      expect(result.stdout + result.stderr).not.toContain('s3cret');
    }
  });

  it('--app-env production switches the presets', async () => {
    const result = await explain(['--app-env', 'production'], { APP_ENV: 'development' });
    expect(result.stdout).toContain('MongoDB pool "default" (kind mongo, APP_ENV=production)');
    expect(result.stdout).toMatch(
      /maxPoolSize\s+MONGODB_MAX_POOL_SIZE\s+100\s+APP_ENV=production preset/,
    );
  });

  it('--env-file reads a .env file; the environment wins over it', async () => {
    const file = join(project, 'test.env');
    writeFileSync(file, 'REDIS_MAX_CONNECTIONS=7\nHTTP_RETRIES=5\n');
    const result = await explain(['--env-file', 'test.env', '--json'], { HTTP_RETRIES: '1' });
    const values = (JSON.parse(result.stdout) as PoolConfigExplanation[]).flatMap((e) => e.values);
    expect(values.find((v) => v.key === 'maxConnections')?.value).toBe(7);
    expect(values.find((v) => v.key === 'retries')).toMatchObject({
      value: 1,
      source: 'env HTTP_RETRIES',
    });
  });

  it('--json prints the explanations', async () => {
    const result = await explain(['--json', '--package', '@nest-pools/redis']);
    const parsed = JSON.parse(result.stdout) as PoolConfigExplanation[];
    expect(parsed.map((e) => e.kind)).toEqual(['redis']);
    expect(parsed[0]?.values.find((v) => v.key === 'url')).toMatchObject({ origin: 'default' });
    expect(result.code).toBe(0);
  });

  it('exits 1 and lists the issues of an invalid environment', async () => {
    const result = await explain([], { MONGODB_MAX_POOL_SIZE: 'many' });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /1 issue\(s\) — startup would fail:\n\s+MONGODB_MAX_POOL_SIZE: given "?many"?/,
    );
  });

  it('exits 2 with the usage on stderr for an unknown flag or command', async () => {
    for (const argv of [['explain', '--verbose'], ['show'], []]) {
      const result = await runConfigExplain({ argv, cwd: project, env: {}, load });
      expect(result).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toContain('Usage: nest-pools-config explain');
    }
    expect(() => parseConfigExplainArgs(['explain', '--env-file'])).toThrow(
      '--env-file needs a value',
    );
  });

  it('discovers any package that declares nest-pools.config, walking up from cwd', async () => {
    const root = mkdtempSync(join(tmpdir(), 'nest-pools-discover-'));
    try {
      installFake(root, 'x', { config: './dist/config/index.js', definition: 'X_POOL_DEFINITION' });
      installFake(root, 'testing');
      const nested = join(root, 'apps', 'api');
      mkdirSync(nested, { recursive: true });
      expect(discoverPoolPackages(nested)).toEqual([
        {
          name: '@nest-pools/x',
          specifier: expect.stringMatching(
            /^file:.*\/node_modules\/@nest-pools\/x\/dist\/config\/index\.js$/,
          ),
          definition: 'X_POOL_DEFINITION',
        },
      ]);
      const result = await explain(['--app-env', 'production'], {}, nested);
      expect(result.stdout).toMatch(
        /X pool "default" .*\n.*\n\s+size\s+X_SIZE\s+9\s+APP_ENV=production preset/,
      );
      expect(result.code).toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('says what to do when no pool package is installed', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'nest-pools-empty-'));
    try {
      const result = await explain([], {}, empty);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('no @nest-pools pool package found in node_modules');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
