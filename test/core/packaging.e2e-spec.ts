// Proves that `npm pack` of every lib gives a tarball that installs into a fresh ESM project and
// imports by name, with the same runtime exports as the lib's source barrel. Offline: the
// tarballs are extracted into the project's node_modules and the lib's declared dependencies
// are linked from this repository's node_modules (nothing is downloaded).
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { lockedTscBuild } from '../support/build-lock.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every lib with a public barrel is a package that must pack and import. */
const libs = readdirSync(join(root, 'libs'))
  .filter((name) => existsSync(join(root, 'libs', name, 'src', 'index.ts')))
  // Dependencies first, so a broken core is reported as the cause.
  .sort((a, b) => (a === 'core' ? -1 : b === 'core' ? 1 : a.localeCompare(b)));

/** Exports that must exist whatever else a barrel holds. */
const KNOWN_EXPORTS: Record<string, string[]> = {
  core: ['PoolMetricsModule', 'SharedHealthCheck', 'ShutdownModule', 'PoolError'],
};

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface LibResult {
  buildErrors: string[];
  packError?: string;
  files: string[];
  missingDeps: string[];
  /** Outcome of `import('@nest-pools/<lib>')` in the fresh project. */
  imported?: { exports?: string[]; error?: string };
}

interface ExecError {
  stdout?: string;
  stderr?: string;
  message: string;
}

function outputOf(error: unknown): string {
  const e = error as ExecError;
  return [e.stdout, e.stderr].filter(Boolean).join('\n') || e.message;
}

function readPackageJson(lib: string): PackageJson {
  return JSON.parse(readFileSync(join(root, 'libs', lib, 'package.json'), 'utf8')) as PackageJson;
}

describe('packaging: npm pack of each lib installs into a fresh ESM project', () => {
  let workDir: string;
  let project: string;
  const results = new Map<string, LibResult>();
  let explainOutput = '';

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'nest-pools-pack-'));
    const tarballs = join(workDir, 'tarballs');
    project = join(workDir, 'project');
    mkdirSync(tarballs);
    mkdirSync(join(project, 'node_modules', '@nest-pools'), { recursive: true });

    // One incremental `tsc -b` over every lib (what `npm run build` does for them), under the
    // suites' build lock: the CodeBot and wire-server suites build the same libs.
    let tscOutput = '';
    try {
      await run('flock', lockedTscBuild(...libs.map((lib) => `libs/${lib}/tsconfig.lib.json`)), {
        cwd: root,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      tscOutput = outputOf(error);
    }

    await Promise.all(
      libs.map(async (lib) => {
        const result: LibResult = {
          buildErrors: tscOutput
            .split('\n')
            .filter((line) => line.includes(`libs/${lib}/`) && line.includes('error')),
          files: [],
          missingDeps: [],
        };
        results.set(lib, result);
        try {
          const { stdout } = await run(
            'npm',
            ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs],
            { cwd: join(root, 'libs', lib), maxBuffer: 16 * 1024 * 1024 },
          );
          const [packed] = JSON.parse(stdout) as Array<{
            filename: string;
            files: Array<{ path: string }>;
          }>;
          if (packed === undefined) throw new Error(`npm pack printed no result: ${stdout}`);
          result.files = packed.files.map((f) => f.path);
          const target = join(project, 'node_modules', '@nest-pools', lib);
          mkdirSync(target);
          await run('tar', [
            '-xzf',
            join(tarballs, packed.filename),
            '-C',
            target,
            '--strip-components=1',
          ]);
        } catch (error) {
          result.packError = outputOf(error);
        }
      }),
    );

    // Link what the libs declare (dependencies and peers) from this repository's node_modules.
    const dependencies: Record<string, string> = {};
    for (const lib of libs) {
      const pkg = readPackageJson(lib);
      const declared = { ...pkg.dependencies, ...pkg.peerDependencies };
      for (const [name, range] of Object.entries(declared)) {
        if (name.startsWith('@nest-pools/')) continue;
        const source = join(root, 'node_modules', name);
        if (!existsSync(source)) {
          if (pkg.peerDependenciesMeta?.[name]?.optional !== true) {
            results.get(lib)?.missingDeps.push(name);
          }
          continue;
        }
        dependencies[name] = range;
        const link = join(project, 'node_modules', name);
        if (existsSync(link)) continue;
        mkdirSync(dirname(link), { recursive: true });
        symlinkSync(source, link, 'dir');
      }
    }
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'pack-check', private: true, type: 'module', dependencies }, null, 2),
    );

    // Import every packed lib by name from the fresh project, in one plain Node process.
    const packed = libs.filter((lib) => results.get(lib)?.packError === undefined);
    const script = `
      const out = {};
      for (const lib of ${JSON.stringify(packed)}) {
        try {
          out[lib] = { exports: Object.keys(await import('@nest-pools/' + lib)).sort() };
        } catch (error) {
          out[lib] = { error: String(error?.stack ?? error) };
        }
      }
      console.log(JSON.stringify(out));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: project,
      maxBuffer: 16 * 1024 * 1024,
    });
    const imported = JSON.parse(stdout) as Record<string, LibResult['imported']>;
    for (const lib of packed) {
      const result = results.get(lib);
      if (result !== undefined) result.imported = imported[lib];
    }

    // The bin of the packed core, run as an application would, finds the packed pool kinds.
    try {
      const bin = join(
        'node_modules',
        '@nest-pools',
        'core',
        'dist',
        'bin',
        'nest-pools-config.js',
      );
      const { stdout: text } = await run(process.execPath, [bin, 'explain'], {
        cwd: project,
        env: { PATH: process.env.PATH ?? '' },
        maxBuffer: 16 * 1024 * 1024,
      });
      explainOutput = text;
    } catch (error) {
      explainOutput = `nest-pools-config explain failed:\n${outputOf(error)}`;
    }
  }, 180_000);

  afterAll(() => {
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  it('the packed core bin explains the config of every packed pool kind', () => {
    for (const head of ['MongoDB pool "default"', 'Redis pool "default"', 'HTTP pool "default"']) {
      expect(explainOutput).toContain(head);
    }
  });

  it('finds the libs to check', () => {
    expect(libs).toEqual(expect.arrayContaining(['core', 'testing']));
  });

  it.each(libs)(
    '@nest-pools/%s builds, packs only built files and imports by name',
    async (lib) => {
      const result = results.get(lib);
      if (result === undefined) throw new Error(`no result for ${lib}: beforeAll failed`);
      expect({ lib, buildErrors: result.buildErrors }).toEqual({ lib, buildErrors: [] });
      expect({ lib, packError: result.packError }).toEqual({ lib, packError: undefined });
      expect({ lib, missingDeps: result.missingDeps }).toEqual({ lib, missingDeps: [] });

      expect(result.files).toEqual(
        expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts']),
      );
      expect(result.files.filter((f) => f.startsWith('src/'))).toEqual([]);
      expect(result.files.filter((f) => /\.(e2e-)?spec\./.test(f))).toEqual([]);

      const imported = results.get(lib)?.imported;
      if (imported?.error !== undefined) {
        throw new Error(
          `import('@nest-pools/${lib}') failed in the fresh project:\n${imported.error}`,
        );
      }
      const packedExports = imported?.exports ?? [];

      // The source barrel as this repository sees it: the tarball must export the same names.
      const source = (await import(`@nest-pools/${lib}`)) as Record<string, unknown>;
      const sourceExports = Object.keys(source).sort();
      expect(sourceExports.length).toBeGreaterThan(0);
      expect(packedExports).toEqual(sourceExports);
      expect(packedExports).toEqual(expect.arrayContaining(KNOWN_EXPORTS[lib] ?? []));
    },
    60_000,
  );
});
