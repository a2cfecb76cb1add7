import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Passphrase of {@link TestCertificates.clientKeyEncrypted}. */
export const TEST_CLIENT_KEY_PASSPHRASE = 'nest-pools-test-passphrase';

/** Paths of the PEM files {@link makeTestCertificates} wrote. */
export interface TestCertificates {
  /** CA that signed the server and client certificates. */
  ca: string;
  /** A second CA that signed nothing (a client trusting only it must refuse the server). */
  otherCa: string;
  /** Server certificate for 127.0.0.1 / localhost. */
  cert: string;
  /** Its private key. */
  key: string;
  /** Client certificate (CN `nest-pools test client`, extended key usage clientAuth) signed by `ca`. */
  clientCert: string;
  /** Its private key, unencrypted. */
  clientKey: string;
  /** The same key encrypted with AES-256 under {@link clientKeyPassphrase}. */
  clientKeyEncrypted: string;
  /** Passphrase of `clientKeyEncrypted` ({@link TEST_CLIENT_KEY_PASSPHRASE}). */
  clientKeyPassphrase: string;
}

/**
 * A private CA with a server certificate for 127.0.0.1 / localhost and a client certificate (for
 * mutual TLS) signed by it, made with openssl, plus a second CA that signed nothing (a client
 * trusting only that one must refuse the server), written into `dir` (valid 2 days). The client
 * key is written twice: plain, and encrypted under {@link TEST_CLIENT_KEY_PASSPHRASE}. Needs the
 * `openssl` command.
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
  /** A key and a certificate with `extensions`, signed by `ca`. */
  const signed = async (name: string, subject: string, extensions: string): Promise<void> => {
    await writeFile(file(`${name}.ext`), extensions);
    await openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    );
    await openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.pem`),
    );
  };
  await signed('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await signed('client', '/CN=nest-pools test client', 'extendedKeyUsage=clientAuth\n');
  await openssl(
    'pkey',
    '-in',
    file('client.key'),
    '-aes256',
    '-passout',
    `pass:${TEST_CLIENT_KEY_PASSPHRASE}`,
    '-out',
    file('client-encrypted.key'),
  );
  return {
    ca: file('ca.pem'),
    otherCa: file('other-ca.pem'),
    cert: file('server.pem'),
    key: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    clientKeyEncrypted: file('client-encrypted.key'),
    clientKeyPassphrase: TEST_CLIENT_KEY_PASSPHRASE,
  };
}
