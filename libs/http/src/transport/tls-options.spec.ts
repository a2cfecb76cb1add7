import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

import { tlsFailureHint, withTlsHint } from './tls-errors.js';
import { readTlsOptions } from './tls-options.js';

describe('readTlsOptions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nest-pools-tls-options-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('always sets rejectUnauthorized, so NODE_TLS_REJECT_UNAUTHORIZED cannot turn verification off', () => {
    expect(readTlsOptions({ tlsRejectUnauthorized: true })).toEqual({ rejectUnauthorized: true });
    expect(readTlsOptions({ tlsRejectUnauthorized: false })).toEqual({ rejectUnauthorized: false });
  });

  it("adds the CA file to Node's bundled CAs instead of replacing them", () => {
    const caFile = join(dir, 'ca.pem');
    const pem = rootCertificates[0] ?? '';
    writeFileSync(caFile, pem);
    const tls = readTlsOptions({ tlsRejectUnauthorized: true, tlsCaFile: caFile });
    expect(tls.ca).toEqual([...rootCertificates, pem]);
  });

  it('reads the client certificate, key and passphrase', () => {
    writeFileSync(join(dir, 'c.pem'), 'CERT');
    writeFileSync(join(dir, 'k.pem'), 'KEY');
    expect(
      readTlsOptions({
        tlsRejectUnauthorized: true,
        tlsCertFile: join(dir, 'c.pem'),
        tlsKeyFile: join(dir, 'k.pem'),
        tlsKeyPassphrase: 'secret',
      }),
    ).toEqual({ rejectUnauthorized: true, cert: 'CERT', key: 'KEY', passphrase: 'secret' });
  });
});

describe('TLS failure hints', () => {
  it.each([
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'HTTP_TLS_CA_FILE (option tlsCaFile)'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'HTTP_TLS_CA_FILE (option tlsCaFile)'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'HTTP_TLS_CA_FILE (option tlsCaFile)'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'a name or IP address its certificate lists'],
    ['CERT_HAS_EXPIRED', 'validity period'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'HTTP_TLS_CERT_FILE and HTTP_TLS_KEY_FILE'],
  ])('%s says what to set', (code, words) => {
    expect(tlsFailureHint(code)).toContain(words);
  });

  it('leaves other failures alone and appends a hint once', () => {
    expect(tlsFailureHint('ECONNRESET')).toBeUndefined();
    expect(withTlsHint('socket hang up', 'ECONNRESET')).toBe('socket hang up');
    const once = withTlsHint('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(withTlsHint(once, 'DEPTH_ZERO_SELF_SIGNED_CERT')).toBe(once);
  });
});
