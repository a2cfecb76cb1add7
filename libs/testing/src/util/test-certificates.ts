import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Paths of the PEM files {@link makeTestCertificates} wrote. */
export interface TestCertificates {
  /** CA that signed the server certificate. */
  ca: string;
  /** A second CA that signed nothing (a client trusting only it must refuse the server). */
  otherCa: string;
  /** Server certificate for 127.0.0.1 / localhost. */
  cert: string;
  /** Its private key. */
  key: string;
}

/**
 * A private CA and a server certificate for 127.0.0.1 signed by it, made with openssl, plus a
 * second CA that signed nothing (a client trusting only that one must refuse the server),
 * written into `dir` (valid 2 days). Needs the `openssl` command.
 *
 * @example
 * ```ts
 * const certs = await makeTestCertificates(await mkdtemp(join(tmpdir(), 'tls-')));
 * const server = await MongoWireServer.create({ tls: { key: readFileSync(certs.key), cert: readFileSync(certs.cert) } });
 * ```
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  for (const ca of ['ca', 'other-ca']) {
    await openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=nest-pools test ${ca}`,
      '-keyout',
      file(`${ca}.key`),
      '-out',
      file(`${ca}.pem`),
    );
  }
  await writeFile(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
  );
  await openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('san.ext'),
    '-out',
    file('server.pem'),
  );
  return {
    ca: file('ca.pem'),
    otherCa: file('other-ca.pem'),
    cert: file('server.pem'),
    key: file('server.key'),
  };
}
