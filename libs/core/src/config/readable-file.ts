import { accessSync, constants, readFileSync, statSync } from 'node:fs';

/** Whether `path` names a regular file this process may read. */
export function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The UTF-8 text of the file at `path`, or `undefined` when it is not a regular file this process
 * can read (config rules turn that into an issue naming the variable).
 */
export function readTextFile(path: string): string | undefined {
  if (!isReadableFile(path)) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
