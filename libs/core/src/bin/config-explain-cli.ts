import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';

import type { EnvSource } from '../config/app-env.js';
import { formatPoolConfigExplanation } from '../config/config-explain.js';
import type { PoolConfigExplanation, PoolDefinition } from '../config/pool-definition.js';

/** Usage of `nest-pools-config`, printed on `--help` and (on stderr) for a wrong command line. */
export const CONFIG_EXPLAIN_USAGE = `Usage: nest-pools-config explain [--env-file PATH] [--app-env NAME] [--json] [--package NAME]...

Prints every variable of every installed @nest-pools pool kind: its value (secrets masked), the
source that set it (option / env NAME / APP_ENV preset / default) and the allowed range.

  --env-file PATH   read a .env file too (variables already in the environment win)
  --app-env NAME    use this APP_ENV instead of the environment's
  --json            print the explanations as JSON
  --package NAME    only this package (@nest-pools/mongo); repeatable

Exit code: 0 when every pool is valid, 1 when one would fail at startup, 2 on a wrong command line.`;

/** The command line of `nest-pools-config explain`, parsed. */
export interface ConfigExplainArgs {
  /** `.env` files to read, in order. */
  readonly envFiles: readonly string[];
  /** `APP_ENV` override. */
  readonly appEnv?: string;
  /** Print JSON instead of the text table. */
  readonly json: boolean;
  /** Package names to restrict discovery to; empty = every discovered package. */
  readonly packages: readonly string[];
  /** `--help` was given. */
  readonly help: boolean;
}

/** A pool package found by {@link discoverPoolPackages}: where its config module is. */
export interface PoolPackageRef {
  /** Package name (`@nest-pools/mongo`). */
  readonly name: string;
  /** File URL of the module that exports the definition (`dist/config/index.js`). */
  readonly specifier: string;
  /** Name of the exported definition (`MONGO_POOL_DEFINITION`). */
  readonly definition: string;
}

/** What {@link runConfigExplain} needs; everything that touches the process is passed in. */
export interface ConfigExplainRun {
  /** Arguments after the program name (`['explain', '--json']`). */
  readonly argv: readonly string[];
  /** Where discovery starts and relative `--env-file` paths resolve. */
  readonly cwd: string;
  /** The environment read (`process.env`). */
  readonly env: EnvSource;
  /** Imports a module by specifier (`(s) => import(s)` in the bin; fakes in tests). */
  readonly load: (specifier: string) => Promise<Record<string, unknown>>;
}

/** Output and exit code of one run; the bin writes them and sets `process.exitCode`. */
export interface ConfigExplainResult {
  readonly code: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parses `explain [--env-file PATH] [--app-env NAME] [--json] [--package NAME]...`.
 *
 * @throws Error (a usage error) for a missing command, an unknown flag or a flag without value
 */
export function parseConfigExplainArgs(argv: readonly string[]): ConfigExplainArgs {
  const envFiles: string[] = [];
  const packages: string[] = [];
  let appEnv: string | undefined;
  let json = false;
  let help = false;
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--help' || flag === '-h') help = true;
    else if (flag === '--json') json = true;
    else if (flag === '--env-file') envFiles.push(value());
    else if (flag === '--app-env') appEnv = value();
    else if (flag === '--package') packages.push(value());
    else if (flag?.startsWith('-')) throw new UsageError(`unknown flag ${flag}`);
    else if (command === undefined) command = flag;
    else throw new UsageError(`unexpected argument ${flag}`);
  }
  if (!help && command !== 'explain') {
    throw new UsageError(command === undefined ? 'missing command' : `unknown command ${command}`);
  }
  return { envFiles, appEnv, json, packages, help };
}

interface PoolPackageJson {
  name?: string;
  'nest-pools'?: { config?: string; definition?: string };
}

/**
 * Finds the pool packages installed for a project: walks up from `cwd` and reads every
 * `node_modules/@nest-pools/<x>/package.json` that declares `"nest-pools": { "config",
 * "definition" }`; the nearest installation of a name wins. Core names no pool kind: a package
 * of your own is found the same way.
 */
export function discoverPoolPackages(cwd: string): PoolPackageRef[] {
  const found = new Map<string, PoolPackageRef>();
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const scope = join(dir, 'node_modules', '@nest-pools');
    if (existsSync(scope)) {
      for (const entry of readdirSync(scope).sort()) {
        const pkgDir = join(scope, entry);
        const file = join(pkgDir, 'package.json');
        if (!existsSync(file)) continue;
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as PoolPackageJson;
        const field = pkg['nest-pools'];
        const name = pkg.name ?? `@nest-pools/${entry}`;
        if (field?.config === undefined || field.definition === undefined || found.has(name)) {
          continue;
        }
        found.set(name, {
          name,
          specifier: pathToFileURL(join(pkgDir, field.config)).href,
          definition: field.definition,
        });
      }
    }
    if (dirname(dir) === dir) break;
  }
  return [...found.values()];
}

function isDefinition(value: unknown): value is Pick<PoolDefinition, 'kind' | 'explain'> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { explain?: unknown }).explain === 'function' &&
    typeof (value as { kind?: unknown }).kind === 'string'
  );
}

function readEnvFiles(files: readonly string[], cwd: string): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const file of files) {
    const parsed = parseEnv(readFileSync(resolve(cwd, file), 'utf8'));
    for (const [key, value] of Object.entries(parsed)) {
      if (value !== undefined) merged[key] = value;
    }
  }
  return merged;
}

/**
 * `nest-pools-config explain`: discovers the installed pool kinds, explains each one's
 * configuration from the environment and prints it. Never exits the process and never throws:
 * the caller writes `stdout`/`stderr` and uses `code`.
 */
export async function runConfigExplain(run: ConfigExplainRun): Promise<ConfigExplainResult> {
  let args: ConfigExplainArgs;
  try {
    args = parseConfigExplainArgs(run.argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return {
      code: 2,
      stdout: '',
      stderr: `nest-pools-config: ${err.message}\n\n${CONFIG_EXPLAIN_USAGE}\n`,
    };
  }
  if (args.help) return { code: 0, stdout: `${CONFIG_EXPLAIN_USAGE}\n`, stderr: '' };

  let env: EnvSource;
  try {
    // Like ConfigModule's envFilePath: a variable already in the environment wins over the file.
    env = { ...readEnvFiles(args.envFiles, run.cwd), ...run.env };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return {
      code: 2,
      stdout: '',
      stderr: `nest-pools-config: cannot read --env-file: ${reason}\n`,
    };
  }
  if (args.appEnv !== undefined) env = { ...env, APP_ENV: args.appEnv };

  const refs = discoverPoolPackages(run.cwd).filter(
    (ref) => args.packages.length === 0 || args.packages.includes(ref.name),
  );
  const missing = args.packages.filter((name) => !refs.some((ref) => ref.name === name));
  if (refs.length === 0 || missing.length > 0) {
    const what =
      missing.length > 0 ? `${missing.join(', ')} not found` : 'no @nest-pools pool package found';
    return {
      code: 1,
      stdout: '',
      stderr: `nest-pools-config: ${what} in node_modules at or above ${run.cwd}; run it from your project directory after npm install (and npm run build in this repository)\n`,
    };
  }

  const explanations: PoolConfigExplanation[] = [];
  const errors: string[] = [];
  for (const ref of refs) {
    try {
      const definition = (await run.load(ref.specifier))[ref.definition];
      if (!isDefinition(definition)) {
        errors.push(
          `${ref.name}: ${ref.specifier} does not export a pool definition ${ref.definition}`,
        );
        continue;
      }
      explanations.push(definition.explain(env));
    } catch (err) {
      errors.push(`${ref.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const stdout = args.json
    ? `${JSON.stringify(explanations, null, 2)}\n`
    : formatPoolConfigExplanation(explanations);
  const stderr = errors.map((e) => `nest-pools-config: cannot load ${e}\n`).join('');
  const failed = errors.length > 0 || explanations.some((e) => e.issues.length > 0);
  return { code: failed ? 1 : 0, stdout, stderr };
}
