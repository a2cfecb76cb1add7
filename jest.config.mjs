// Jest 30 in native ESM mode (NODE_OPTIONS=--experimental-vm-modules, set by scripts/jest.mjs)
// with @swc/jest. The @nest-pools/* mapper is generated from tsconfig.json's `paths`, so the
// aliases are kept in one place only.
import { readFileSync } from 'node:fs';

const tsconfig = JSON.parse(readFileSync(new URL('./tsconfig.json', import.meta.url), 'utf8'));
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Turns `"@nest-pools/x/*": ["./libs/x/src/*"]` into `^@nest-pools/x/(.*)$ → <rootDir>/libs/x/src/$1`. */
function pathsToModuleNameMapper(paths) {
  const mapper = {};
  for (const [alias, [target]] of Object.entries(paths)) {
    const from = `^${escape(alias).replace('\\*', '(.*)')}$`;
    mapper[from] = `<rootDir>/${target.replace(/^\.\//, '').replace('*', '$1')}`;
  }
  return mapper;
}

const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const common = {
  rootDir: '.',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    ...pathsToModuleNameMapper(tsconfig.compilerOptions.paths),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
  setupFiles: ['<rootDir>/test/setup/reflect-metadata.ts'],
};

/** @type {import('jest').Config} */
export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/libs/*/src/**/*.spec.ts',
        '<rootDir>/apps/*/src/**/*.spec.ts',
        '<rootDir>/bench/**/*.spec.mjs',
      ],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      slowTestThreshold: 30,
    },
    {
      // The Mongo module suites again, on a three-member wire replica set (MONGO_TOPOLOGY=replset).
      // Left out: the failover suite (always on a replica set, in `e2e`) and the availability
      // suite (one server going away; on a replica set that is the failover suite's subject), and
      // the TLS suite (starts its own servers of both topologies).
      ...common,
      displayName: 'e2e-replset',
      testMatch: ['<rootDir>/test/mongo/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: [
        '/node_modules/',
        '<rootDir>/test/mongo/mongo-pool\\.(replset|availability|tls)\\.',
      ],
      setupFiles: [...common.setupFiles, '<rootDir>/test/setup/mongo-replset.ts'],
      slowTestThreshold: 30,
    },
  ],
  testTimeout: 30000,
};
