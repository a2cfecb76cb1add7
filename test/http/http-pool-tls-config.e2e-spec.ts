// The TLS and HTTP/2 block of the HTTP pool's configuration, against real certificate files
// made with openssl (the unit spec of the other variables needs no files).
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { captureConfigError as configErrorOf, REDACTED } from '@nest-pools/core';
import {
  explainHttpPoolConfig,
  HTTP_POOL_ENV,
  type HttpPoolConfig,
  parseHttpPoolConfig,
} from '@nest-pools/http';
import type { TestCertificates } from '@nest-pools/testing';

import { useTestCertificates } from '../support/tls.js';

describe('HTTP pool config: TLS files and HTTP/2', () => {
  const suite = useTestCertificates('http-tls-config');
  let certs: TestCertificates;
  beforeAll(() => {
    certs = suite.certs;
  });

  it('reads every TLS and HTTP/2 variable from env', () => {
    // env name, its value, the companions it needs, config key, expected value
    const rows: Array<
      [string, () => string, () => Record<string, string>, keyof HttpPoolConfig, () => unknown]
    > = [
      ['HTTP_TLS_CA_FILE', () => certs.ca, () => ({}), 'tlsCaFile', () => certs.ca],
      [
        'HTTP_TLS_CERT_FILE',
        () => certs.clientCert,
        () => ({ HTTP_TLS_KEY_FILE: certs.clientKey }),
        'tlsCertFile',
        () => certs.clientCert,
      ],
      [
        'HTTP_TLS_KEY_FILE',
        () => certs.clientKey,
        () => ({ HTTP_TLS_CERT_FILE: certs.clientCert }),
        'tlsKeyFile',
        () => certs.clientKey,
      ],
      [
        'HTTP_TLS_KEY_PASSPHRASE',
        () => certs.clientKeyPassphrase,
        () => ({
          HTTP_TLS_CERT_FILE: certs.clientCert,
          HTTP_TLS_KEY_FILE: certs.clientKeyEncrypted,
        }),
        'tlsKeyPassphrase',
        () => certs.clientKeyPassphrase,
      ],
      [
        'HTTP_TLS_REJECT_UNAUTHORIZED',
        () => 'no',
        () => ({}),
        'tlsRejectUnauthorized',
        () => false,
      ],
      ['HTTP_ALLOW_H2', () => 'yes', () => ({}), 'allowH2', () => true],
    ];
    const block = HTTP_POOL_ENV.filter((v) => /^HTTP_(TLS_|ALLOW_H2)/.test(v.env ?? '')).map(
      (v) => v.env,
    );
    expect(rows.map(([env]) => env)).toEqual(block);
    for (const [env, value, companions, key, expected] of rows) {
      expect(parseHttpPoolConfig({ ...companions(), [env]: value() })[key]).toEqual(expected());
    }
  });

  it('keeps verification on and HTTP/2 off by default', () => {
    const config = parseHttpPoolConfig({});
    expect([config.tlsRejectUnauthorized, config.allowH2]).toEqual([true, false]);
    expect(config.tlsCaFile).toBeUndefined();
  });

  it('refuses a file that does not hold what its variable names', () => {
    const notCa = configErrorOf(() => parseHttpPoolConfig({ HTTP_TLS_CA_FILE: certs.clientKey }));
    expect(notCa.issues).toEqual([
      expect.objectContaining({
        variable: 'HTTP_TLS_CA_FILE',
        allowed: expect.stringContaining('this file holds none') as unknown,
      }),
    ]);
    const notCert = configErrorOf(() =>
      parseHttpPoolConfig({
        HTTP_TLS_CERT_FILE: certs.clientKey,
        HTTP_TLS_KEY_FILE: certs.clientKey,
      }),
    );
    expect(notCert.issues.map((i) => i.variable)).toEqual(['HTTP_TLS_CERT_FILE']);
    const notKey = configErrorOf(() =>
      parseHttpPoolConfig({ HTTP_TLS_CERT_FILE: certs.clientCert, HTTP_TLS_KEY_FILE: certs.ca }),
    );
    expect(notKey.issues).toEqual([
      expect.objectContaining({
        variable: 'HTTP_TLS_KEY_FILE',
        allowed: expect.stringContaining('a PEM private key file') as unknown,
      }),
    ]);
    const otherKey = configErrorOf(() =>
      parseHttpPoolConfig({ HTTP_TLS_CERT_FILE: certs.clientCert, HTTP_TLS_KEY_FILE: certs.key }),
    );
    expect(otherKey.issues).toEqual([
      expect.objectContaining({
        variable: 'HTTP_TLS_KEY_FILE',
        allowed:
          'the private key of the certificate in HTTP_TLS_CERT_FILE (this key belongs to another certificate)',
      }),
    ]);
  });

  it('wants a client certificate and its key together, named as they were given', () => {
    const noKey = configErrorOf(() =>
      parseHttpPoolConfig({ HTTP_TLS_CERT_FILE: certs.clientCert }),
    );
    expect(noKey.issues).toEqual([
      expect.objectContaining({
        variable: 'HTTP_TLS_KEY_FILE',
        given: '(not set)',
        allowed: expect.stringContaining('required because HTTP_TLS_CERT_FILE is set') as unknown,
      }),
    ]);
    const noCert = configErrorOf(() => parseHttpPoolConfig({}, { tlsKeyFile: certs.clientKey }));
    expect(noCert.issues).toEqual([
      expect.objectContaining({
        variable: 'options.tlsCertFile',
        allowed: expect.stringContaining('required because options.tlsKeyFile is set') as unknown,
      }),
    ]);
    const strayPassphrase = configErrorOf(() =>
      parseHttpPoolConfig({ HTTP_TLS_KEY_PASSPHRASE: 'x' }),
    );
    expect(strayPassphrase.issues).toEqual([
      expect.objectContaining({ variable: 'HTTP_TLS_KEY_PASSPHRASE', given: `"${REDACTED}"` }),
    ]);
  });

  it('names the passphrase when an encrypted key cannot be decrypted, and never shows it', () => {
    const pair = {
      HTTP_TLS_CERT_FILE: certs.clientCert,
      HTTP_TLS_KEY_FILE: certs.clientKeyEncrypted,
    };
    const missing = configErrorOf(() => parseHttpPoolConfig(pair));
    expect(missing.issues).toEqual([
      expect.objectContaining({
        variable: 'HTTP_TLS_KEY_PASSPHRASE',
        given: '(not set)',
        allowed: 'the passphrase of the encrypted key in HTTP_TLS_KEY_FILE',
      }),
    ]);
    const wrongPassphrase = 'not-the-passphrase-42';
    const wrong = configErrorOf(() =>
      parseHttpPoolConfig({ ...pair, HTTP_TLS_KEY_PASSPHRASE: wrongPassphrase }),
    );
    expect(wrong.issues).toEqual([
      expect.objectContaining({
        variable: 'HTTP_TLS_KEY_PASSPHRASE',
        given: `"${REDACTED}"`,
        allowed: 'the passphrase of the key in HTTP_TLS_KEY_FILE (this one does not decrypt it)',
      }),
    ]);
    expect(`${wrong.message}\n${JSON.stringify(wrong.issues)}`).not.toContain(wrongPassphrase);

    const explained = explainHttpPoolConfig(
      { ...pair, HTTP_TLS_KEY_PASSPHRASE: certs.clientKeyPassphrase },
      { name: 'partner' },
    );
    expect(explained.issues).toEqual([]);
    expect(explained.values.find((v) => v.key === 'tlsKeyPassphrase')).toMatchObject({
      value: REDACTED,
      source: 'env HTTP_TLS_KEY_PASSPHRASE',
      secret: true,
    });
    expect(JSON.stringify(explained)).not.toContain(certs.clientKeyPassphrase);
  });

  it('names the passphrase when a wrong one happens to decrypt to bytes that are no key', () => {
    // About one wrong passphrase in 256 leaves valid padding after decryption; OpenSSL then fails
    // to decode the bytes (ERR_OSSL_UNSUPPORTED) instead of saying "bad decrypt". Find one.
    const encrypted = readFileSync(certs.clientKeyEncrypted, 'utf8');
    const decodes = (passphrase: string): string | undefined => {
      try {
        createPrivateKey({ key: encrypted, passphrase });
        return 'decrypted';
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    let passphrase: string | undefined;
    for (let i = 0; i < 20_000 && passphrase === undefined; i++) {
      if (decodes(`wrong-${i}`) === 'ERR_OSSL_UNSUPPORTED') passphrase = `wrong-${i}`;
    }
    if (passphrase === undefined)
      throw new Error('no wrong passphrase in 20,000 left valid padding');
    const error = configErrorOf(() =>
      parseHttpPoolConfig({
        HTTP_TLS_CERT_FILE: certs.clientCert,
        HTTP_TLS_KEY_FILE: certs.clientKeyEncrypted,
        HTTP_TLS_KEY_PASSPHRASE: passphrase,
      }),
    );
    expect(error.issues).toEqual([
      expect.objectContaining({
        variable: 'HTTP_TLS_KEY_PASSPHRASE',
        given: `"${REDACTED}"`,
        allowed: 'the passphrase of the key in HTTP_TLS_KEY_FILE (this one does not decrypt it)',
      }),
    ]);
  });

  it('names the key file when an encrypted key is cut short, whatever the passphrase', () => {
    const lines = readFileSync(certs.clientKeyEncrypted, 'utf8').trimEnd().split('\n');
    const cut = join(suite.dir, 'client-encrypted-cut.key');
    writeFileSync(cut, `${[...lines.slice(0, 4), ...lines.slice(-1)].join('\n')}\n`);
    for (const passphrase of [certs.clientKeyPassphrase, 'not-the-passphrase-42']) {
      const error = configErrorOf(() =>
        parseHttpPoolConfig({
          HTTP_TLS_CERT_FILE: certs.clientCert,
          HTTP_TLS_KEY_FILE: cut,
          HTTP_TLS_KEY_PASSPHRASE: passphrase,
        }),
      );
      expect(error.issues).toEqual([
        expect.objectContaining({
          variable: 'HTTP_TLS_KEY_FILE',
          allowed: expect.stringContaining('a PEM private key file') as unknown,
        }),
      ]);
    }
  });

  it('reads a legacy encrypted key (Proc-Type: 4,ENCRYPTED) and tells its passphrase from its damage', () => {
    const legacy = join(suite.dir, 'client-legacy.key');
    execFileSync('openssl', [
      'rsa',
      '-in',
      certs.clientKey,
      '-traditional',
      '-aes256',
      '-passout',
      `pass:${certs.clientKeyPassphrase}`,
      '-out',
      legacy,
    ]);
    const text = readFileSync(legacy, 'utf8');
    expect(text).toContain('Proc-Type: 4,ENCRYPTED');
    const withKey = (file: string, passphrase: string) => ({
      HTTP_TLS_CERT_FILE: certs.clientCert,
      HTTP_TLS_KEY_FILE: file,
      HTTP_TLS_KEY_PASSPHRASE: passphrase,
    });
    expect(parseHttpPoolConfig(withKey(legacy, certs.clientKeyPassphrase)).tlsKeyFile).toBe(legacy);
    const wrong = configErrorOf(() =>
      parseHttpPoolConfig(withKey(legacy, 'not-the-passphrase-42')),
    );
    expect(wrong.issues.map((i) => i.variable)).toEqual(['HTTP_TLS_KEY_PASSPHRASE']);
    // The last base64 line loses four characters: three bytes, no longer whole cipher blocks.
    const lines = text.trimEnd().split('\n');
    lines[lines.length - 2] = (lines[lines.length - 2] as string).slice(0, -4);
    const cut = join(suite.dir, 'client-legacy-cut.key');
    writeFileSync(cut, `${lines.join('\n')}\n`);
    const damaged = configErrorOf(() =>
      parseHttpPoolConfig(withKey(cut, certs.clientKeyPassphrase)),
    );
    expect(damaged.issues.map((i) => i.variable)).toEqual(['HTTP_TLS_KEY_FILE']);
  });

  it('allows the verification opt-out from env outside production only', () => {
    expect(
      parseHttpPoolConfig({ APP_ENV: 'staging', HTTP_TLS_REJECT_UNAUTHORIZED: 'false' })
        .tlsRejectUnauthorized,
    ).toBe(false);
    const production = configErrorOf(() =>
      parseHttpPoolConfig({ APP_ENV: 'production', HTTP_TLS_REJECT_UNAUTHORIZED: 'false' }),
    );
    expect(production.issues.map((i) => i.variable)).toEqual(['HTTP_TLS_REJECT_UNAUTHORIZED']);
    expect(
      parseHttpPoolConfig({ APP_ENV: 'production' }, { tlsRejectUnauthorized: false })
        .tlsRejectUnauthorized,
    ).toBe(false);
  });

  it('refuses HTTP/2 on the Node agents transport', () => {
    const error = configErrorOf(() =>
      parseHttpPoolConfig({ HTTP_ALLOW_H2: 'true' }, { transport: 'http' }),
    );
    expect(error.issues).toEqual([
      expect.objectContaining({
        variable: 'HTTP_ALLOW_H2',
        allowed: expect.stringContaining('HTTP/2 needs transport undici') as unknown,
      }),
    ]);
  });
});
