import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { makeTestCertificates, type TestCertificates } from '@nest-pools/testing';

/** What {@link useTestCertificates} gives a suite once its `beforeAll` ran. */
export interface SuiteCertificates {
  /** The temporary directory holding the files (removed in `afterAll`). */
  readonly dir: string;
  /** Paths of the CA, server and client certificates. */
  readonly certs: TestCertificates;
  /** The server key and certificate as an upstream's `tls` option. */
  serverTls(): { key: Buffer; cert: Buffer };
}

/**
 * Makes the test kit's certificates (`makeTestCertificates`) in a temporary directory in
 * `beforeAll` and removes it in `afterAll`; call it in the `describe` body, before the suite's
 * own `beforeAll` that starts servers with them.
 */
export function useTestCertificates(prefix: string): SuiteCertificates {
  let dir: string | undefined;
  let certs: TestCertificates | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `nest-pools-${prefix}-`));
    certs = await makeTestCertificates(dir);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useTestCertificates: read only after beforeAll');
    return value;
  };
  return {
    get dir() {
      return ready(dir);
    },
    get certs() {
      return ready(certs);
    },
    serverTls: () => ({
      key: readFileSync(ready(certs).key),
      cert: readFileSync(ready(certs).cert),
    }),
  };
}
